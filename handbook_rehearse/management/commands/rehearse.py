"""``manage.py rehearse``: run the unapplied migrations on a production-like database, under traffic, and judge
what the site would suffer. Exit status 1 when the budget is broken, 2 when the command cannot run."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor

from handbook_rehearse import filling, pages, plan
from handbook_rehearse.rehearsal import Traffic, analyze, rehearse, table_rows
from handbook_rehearse.report import Report
from handbook_rehearse.verdict import Budget

# Django's backends the command can run on; MySQL, which shares the mysql backend with MariaDB, is refused apart.
ENGINES = {"postgresql": "PostgreSQL", "mysql": "MariaDB"}


def positive(kind: type, name: str):
    """An argparse type: a number of ``kind`` above zero, else an error that says so."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, not {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{name} must be above zero, not {text!r}")
        return value
    return parse


class Command(BaseCommand):
    help = ("Apply the migrations not yet applied to a production-like database while requests like the site's "
            "read and write the tables they touch; print each migration's statements, locks and request waits, "
            "and exit with status 1 if any breaks the budget. Never run it on production: it applies migrations "
            "and writes rows.")

    def add_arguments(self, parser):
        parser.add_argument("app_label", nargs="?", help="Rehearse only this app's migrations (and what they need).")
        parser.add_argument("migration_name", nargs="?", help="Rehearse up to this migration of app_label.")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS,
                            help="The alias of the rehearsal database (a restored backup or a clone).")
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive",
                            help="Do not ask for confirmation before applying migrations.")
        parser.add_argument("--max-lock", type=positive(float, "seconds"), default=1.0, metavar="SECONDS",
                            help="Longest a lock that blocks writes may be held (default 1).")
        parser.add_argument("--max-wait", type=positive(float, "seconds"), default=1.0, metavar="SECONDS",
                            help="Longest a request may wait while a migration runs (default 1).")
        parser.add_argument("--clients", type=positive(int, "clients"), default=8,
                            help="Concurrent clients, half reading and half writing (default 8).")
        parser.add_argument("--rate", type=positive(float, "rate"), default=25.0,
                            help="Requests per second each client sends (default 25).")
        parser.add_argument("--settle", type=positive(float, "seconds"), default=1.0, metavar="SECONDS",
                            help="Seconds of traffic before the first migration and after the last (default 1).")
        parser.add_argument("--rows", action="append", default=[], metavar="APP_LABEL.MODEL=ROWS",
                            help="Add ROWS rows to a model's table before rehearsing (repeat for more tables).")
        parser.add_argument("--json", metavar="FILE",
                            help="Also write the report as JSON to FILE ('-' for standard output, then the text "
                                 "report goes to standard error).")
        parser.add_argument("--handbook-url", default=getattr(settings, "REHEARSE_HANDBOOK_URL", ""), metavar="URL",
                            help="Where the handbook is served, to link each finding to its page "
                                 "(default: the REHEARSE_HANDBOOK_URL setting, else page paths).")

    def handle(self, *args, **options):
        try:
            self.rehearse(**options)
        except DatabaseError as error:  # the server is unreachable, or refused the rehearsal's own queries
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise CommandError(f"The rehearsal could not use database {options['database']!r}: {first_line}",
                               returncode=2) from None

    def rehearse(self, app_label=None, migration_name=None, **options):
        alias = options["database"]
        if alias not in connections:
            raise CommandError(f"--database {alias!r}: no such database in DATABASES "
                               f"(there are: {', '.join(connections)}).", returncode=2)
        connection = connections[alias]
        if connection.vendor not in ENGINES:
            raise CommandError(f"Database {alias!r} is {connection.display_name}: a rehearsal needs PostgreSQL or "
                               "MariaDB, the engines whose locks it can watch.", returncode=2)
        database = self._describe(connection)
        if database["engine"] == "MySQL":
            raise CommandError(f"Database {alias!r} is MySQL {database['version']}: a rehearsal reads MariaDB's "
                               "metadata locks, which MySQL shows elsewhere, and has been proven on MariaDB only.",
                               returncode=2)
        text_out = self.stderr if options["json"] == "-" else self.stdout
        executor = MigrationExecutor(connection)
        steps = plan.unapplied(executor, app_label, migration_name)
        if not steps:
            text_out.write("No migrations to rehearse: every migration is applied.")
            if options["json"]:
                self._write_json(Report(database, Budget(options["max_lock"], options["max_wait"]), {}, {}),
                                 options["json"])
            return
        fills = filling.parse(options["rows"], executor._create_project_state(with_applied_migrations=True).apps)
        if options["interactive"] and not self._confirmed(connection, steps):
            raise CommandError("Rehearsal cancelled.", returncode=2)
        progress = Progress(self.stderr, options["verbosity"])
        self._fill(fills, alias, progress)
        analyze(connection, [model._meta.db_table for model, _ in fills])
        tables = {table for step in steps for table in step.tables}
        report = Report(database=database, budget=Budget(options["max_lock"], options["max_wait"]),
                        workload={}, tables=table_rows(connection, tables), handbook=options["handbook_url"])
        traffic = Traffic(options["clients"], options["rate"], options["settle"])
        rehearse(executor, steps, traffic, report.budget, report, progress.line)
        progress.done()
        text_out.write(report.text())
        if options["json"]:
            self._write_json(report, options["json"])
        if not report.passed:
            raise CommandError(f"The rehearsal broke the budget. See {pages.REHEARSE.title}: "
                               f"{pages.REHEARSE.url(report.handbook)}", returncode=1)

    def _confirmed(self, connection, steps) -> bool:
        name = connection.settings_dict.get("NAME")
        # On standard error: standard output may be the JSON report (--json -).
        self.stderr.write(f"This applies {len(steps)} migration(s) to the database {name!r} ({connection.alias}) "
                          "and writes rows to it, as a rehearsal.\nRun it on a copy, never on production. "
                          "Type 'yes' to go on: ", ending="")
        self.stderr.flush()
        try:
            return input().strip().lower() == "yes"
        except EOFError:
            return False

    def _fill(self, fills, alias: str, progress) -> None:
        for model, rows in fills:
            label = model._meta.label
            progress.line(f"Filling {label}: 0 of {rows:,} rows")
            filling.fill(model, rows, alias, lambda done: progress.line(f"Filling {label}: {done:,} of {rows:,} rows"))

    def _describe(self, connection) -> dict:
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            version = cursor.fetchone()[0]
        engine = ENGINES[connection.vendor]
        if connection.vendor == "postgresql":
            version = version.split()[1]
        elif "mariadb" in version.lower():
            engine, version = "MariaDB", version.split("-")[0]
        else:
            engine = "MySQL"
        return {"engine": engine, "version": version, "name": connection.settings_dict.get("NAME", "")}

    def _write_json(self, report: Report, target: str) -> None:
        text = json.dumps(report.to_json(), indent=2)
        if target == "-":
            self.stdout.write(text)
            return
        try:
            Path(target).write_text(text + "\n")
        except OSError as error:
            raise CommandError(f"--json {target}: cannot write the report ({error.strerror}).", returncode=2) \
                from None


class Progress:
    """One line on standard error that says what the rehearsal is doing: rewritten in place on a terminal, at
    most every few seconds elsewhere (CI logs)."""

    EVERY = 5.0

    def __init__(self, stream, verbosity: int):
        self.stream, self.verbosity = stream, verbosity
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self._last, self._shown = "", 0.0

    def line(self, text: str) -> None:
        if self.verbosity < 1:
            return
        now = time.monotonic()
        if self.tty:
            self.stream.write(f"\r\033[K{text}", ending="")
            self.stream.flush()
        elif text.split(":")[0] != self._last.split(":")[0] or now - self._shown >= self.EVERY:
            self.stream.write(text)
            self._shown = now
        self._last = text

    def done(self) -> None:
        if self.tty and self._last and self.verbosity >= 1:
            self.stream.write("\r\033[K", ending="")
