"""The evidence a guide shows: figures, timelines and SQL from a real run, stamped.

``nox -s evidence [-- SLUG ...]`` runs each example's demonstration on every
engine available and writes ``examples/<slug>/evidence/``:

* ``evidence.json``: the figures per engine, with the engine's name and
  version, the rows, the date and a fingerprint of the example's sources;
* ``timeline-<engine>.svg``: each write's latency during the deploys;
* ``sql/<release>-<migration>-<vendor>.sql``: what ``sqlmigrate`` prints (``<migration>-backwards``: reversed).

A test fails when the example changed after its evidence was made.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import re
import sys
from pathlib import Path

from . import engines
from .releases import EXAMPLES, REPO, Release, example_dir, example_module
from .story import Story

EVIDENCE = "evidence"
RECORD = "evidence.json"
# What is not part of the example's behaviour: its evidence, its tests, caches.
NOT_FINGERPRINTED = {EVIDENCE, "tests", "__pycache__"}
# The lab's instrument: a change to how traffic is sent, locks are read or commands are started (a migration's time
# includes its process's start) changes every figure. Paths from the repository's root.
INSTRUMENT = (*(f"lab/{name}" for name in ("workload.py", "deploy.py", "locks.py", "verbs.py", "fill.py",
                                           "templates.py", "releases.py", "zygote.py")),
              "handbook_rehearse/lockmodes.py", "handbook_rehearse/lockreads.py")
# Instruments only some demonstrations use: part of the fingerprint of those that import them.
OPTIONAL_INSTRUMENT = {
    # The lock trace: the lab's side and the instrument rehearse ships.
    **{path: "lab.trace" for path in ("lab/trace.py", "handbook_rehearse/trace.py")},
    "lab/rolling.py": "lab.rolling",
    # The real site: servers, balancer, visitors, capacity.
    **{f"lab/{name}": "lab.site" for name in ("site.py", "site_urls.py", "site_wsgi.py", "site_deploy.py",
                                              "example_settings.py", "traffic.py", "capacity.py")},
    # A deploy's migration on the real site, reported as the in-process deploys are.
    "lab/site_verbs.py": "lab.site_verbs",
}
# Commands of the repository's own apps: a demonstration that runs one measures that app's code as well.
APP_COMMANDS = {"rehearse": "handbook_rehearse"}
DEMO_ROWS = 1_000_000


def evidence_dir(slug: str) -> Path:
    return example_dir(slug) / EVIDENCE


def fingerprint(slug: str) -> str:
    """SHA-256 of the example's sources (every file but its evidence, tests and caches) and of the lab's instrument."""
    root = example_dir(slug)
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or NOT_FINGERPRINTED & set(relative.parts) or path.suffix in {".pyc", ".sqlite3"}:
            continue
        digest.update(relative.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    demonstration = root / "demonstration.py"
    source = demonstration.read_text() if demonstration.is_file() else ""
    used = [name for name, module in OPTIONAL_INSTRUMENT.items() if _imports(source, module)]
    for name in (*INSTRUMENT, *used):
        if (REPO / name).is_file():
            digest.update(name.encode() + b"\0" + (REPO / name).read_bytes() + b"\0")
    # A demonstration that runs a command of one of the repository's apps measures that app too.
    for command, package in APP_COMMANDS.items():
        if f'"{command}"' in source:
            for path in sorted((REPO / package).rglob("*.py")):
                digest.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _imports(source: str, module: str) -> bool:
    """Whether Python ``source`` imports ``module`` or a module whose name starts with it (``lab.site`` stands for
    ``lab.site_deploy`` too), by its name or from its package."""
    package, _, name = module.rpartition(".")
    return bool(re.search(rf"^\s*(import|from)\s+{re.escape(module)}\w*\b", source, re.MULTILINE)
                or re.search(rf"^\s*from\s+{re.escape(package)}\s+import\s+[^\n]*\b{name}\w*\b", source,
                             re.MULTILINE))


def data_digest(record: dict) -> str:
    """SHA-256 of a record's data, everything but the digest itself: a hand edit changes it."""
    data = {key: value for key, value in record.items() if key != "digest"}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def load(slug: str) -> dict | None:
    """The recorded evidence of an example, or None."""
    path = evidence_dir(slug) / RECORD
    return json.loads(path.read_text()) if path.is_file() else None


def recorded_run(slug: str, engine: engines.Engine) -> dict | None:
    """The engine's run in the recorded evidence of ``slug``: this version, or else the same major version."""
    runs = (load(slug) or {}).get("runs", [])
    major = engine.id.split(".")[0]
    return next((run for run in runs if run["engine"] == engine.id), None) or next(
        (run for run in runs if run["engine"].split(".")[0] == major), None)


def staleness(slug: str) -> str | None:
    """Why the example's evidence cannot be trusted, or None when it is current."""
    record = load(slug)
    if record is None:
        return f"examples/{slug} has no evidence yet: run nox -s evidence -- {slug}"
    if record.get("digest") != data_digest(record):
        return (f"examples/{slug}/evidence/{RECORD} was edited after it was made: its data no longer matches its "
                f"digest. Figures come from runs only: run nox -s evidence -- {slug}")
    for name, digest in record.get("files", {}).items():
        path = evidence_dir(slug) / name
        if not path.is_file() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            return (f"examples/{slug}/evidence/{name} is missing or was edited after it was made: outputs come from "
                    f"runs only: run nox -s evidence -- {slug}")
    if record["fingerprint"] != fingerprint(slug):
        return (f"examples/{slug} changed after its evidence was made ({record['generated']}): "
                f"run nox -s evidence -- {slug}")
    return None


def django_series(version: str | None = None) -> str:
    """The Django release series, ``5.2``, of ``version`` (default: the running Django)."""
    import django

    return ".".join((version or django.get_version()).split(".")[:2])


def sql_dir(slug: str, series: str | None = None) -> Path:
    """Where the SQL of a Django series is kept: the guide's own (the series the evidence was recorded with)
    in ``evidence/sql/``, any other series in ``evidence/sql/django-X.Y/``."""
    series = series or django_series()
    recorded = django_series((load(slug) or {}).get("django", series))
    base = evidence_dir(slug) / "sql"
    return base if series == recorded else base / f"django-{series}"



def sql_mismatch(slug: str, release: str, app_label: str, migration: str, database: engines.Database) -> str | None:
    """How what ``sqlmigrate`` prints now, on this Django and the database's engine, differs from the SQL
    recorded for this Django series, or None."""
    path = sql_path(slug, release, migration, database.engine.vendor)
    if not path.is_file():
        return f"no recorded SQL at {path.relative_to(EXAMPLES.parent)}: run nox -s evidence -- {slug}"
    printed = _printed_for_release(slug, release, database)[app_label, migration]
    if printed == path.read_text():
        return None
    return (f"{release} {migration} on {database.engine.label}, Django {django_series()}, prints other SQL than "
            f"{path.relative_to(EXAMPLES.parent)}:\n{printed}\nrun nox -s evidence -- {slug}")


# What sqlmigrate printed, by example, release and engine: one process prints every migration of a release that
# the guide shows, and the tests of the other migrations reuse it.
_PRINTED: dict[tuple[str, str, str], dict[tuple[str, str], str]] = {}


def _printed_for_release(slug: str, release: str, database: engines.Database) -> dict[tuple[str, str], str]:
    key = (slug, release, database.engine.id)
    if key not in _PRINTED:
        shown = _shown_of(example_module(slug, "demonstration").SQL, release)
        _PRINTED[key] = sqlmigrate_many(slug, release, shown, database)
    return _PRINTED[key]


def _shown_of(sql: list[tuple[str, str, str]], release: str) -> list[tuple[str, str]]:
    """The (app label, migration) pairs of ``release`` among a demonstration's SQL list."""
    return [(app_label, migration) for name, app_label, migration in sql if name == release]


def sql_path(slug: str, release: str, migration: str, vendor: str, series: str | None = None) -> Path:
    """The recorded SQL of one migration on one vendor, for a Django series (default: the running one)."""
    return sql_dir(slug, series) / f"{release}-{migration}-{vendor}.sql"



def record_sql(slug: str, found: dict, story: Story) -> None:
    """Write what ``sqlmigrate`` prints, on this Django, for every migration the guide shows, on every engine."""
    demo = example_module(slug, "demonstration")
    for engine in (e for e in found.values() if isinstance(e, engines.Engine)):
        database = engine.create_database()
        try:
            for release in dict.fromkeys(name for name, _, _ in demo.SQL):
                shown = _shown_of(demo.SQL, release)
                for (app_label, migration), printed in sqlmigrate_many(slug, release, shown, database).items():
                    path = sql_path(slug, release, migration, engine.vendor)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(printed)
        finally:
            database.drop()
    story.say(f"SQL of Django {django_series()} written to {sql_dir(slug).relative_to(EXAMPLES.parent)}")


# A migration named with this suffix in a demonstration's SQL list (``"0003-backwards"``) is shown reversed:
# what ``sqlmigrate --backwards`` prints.
BACKWARDS = "-backwards"
# Run in a process of the release: sqlmigrate for each (app label, migration) given as JSON, its output as the
# command line prints it (the command's stdout, ending included), back as JSON.
_SQLMIGRATE_MANY = """
import io, json, sys
import django
django.setup()
from django.core.management import call_command
printed = []
for app_label, migration in json.loads(sys.argv[1]):
    out = io.StringIO()
    name = migration.removesuffix(sys.argv[2])
    call_command("sqlmigrate", app_label, name, backwards=name != migration, stdout=out)
    printed.append(out.getvalue())
print(json.dumps(printed))
"""


def sqlmigrate_many(slug: str, release: str, migrations: list[tuple[str, str]],
                    database: engines.Database) -> dict[tuple[str, str], str]:
    """What ``sqlmigrate`` prints for each (app label, migration) of a release, on the database's engine: one
    process for them all. A migration named ``NAME-backwards`` is printed reversed (``--backwards``). Where the
    demonstration's ``SQL_SCHEMA`` maps ``release`` to another release, the database is migrated to that one first:
    a schema editor that asks the server about the tables it alters prints what ``migrate`` would run only when
    they are there."""
    if not migrations:
        return {}
    base = getattr(example_module(slug, "demonstration"), "SQL_SCHEMA", {}).get(release)
    if base:
        # sqlmigrate only prints, so the database stays at the base release's schema whatever is printed after.
        made = base.run("migrate", "--no-input", database=database)
        if not made.ok:
            raise RuntimeError(f"migrate {base.name} before sqlmigrate failed on {database.engine.label}:\n"
                               f"{made.stderr}")
    result = Release(slug, release).run_python(_SQLMIGRATE_MANY, json.dumps(migrations), BACKWARDS,
                                               database=database)
    if not result.ok:
        raise RuntimeError(f"sqlmigrate {release} {migrations} failed on {database.engine.label}:\n{result.stderr}")
    return dict(zip(migrations, json.loads(result.stdout.strip().splitlines()[-1]), strict=True))


def sqlmigrate(slug: str, release: str, app_label: str, migration: str, database: engines.Database) -> str:
    """What ``sqlmigrate`` prints for a migration of a release, on the database's engine."""
    return sqlmigrate_many(slug, release, [(app_label, migration)], database)[app_label, migration]


def examples_with_demonstrations() -> list[str]:
    return sorted(p.parent.name for p in EXAMPLES.glob("*/demonstration.py"))


def record_example(slug: str, found: dict, rows: int, story: Story) -> dict:
    """Run the demonstration of ``slug`` on every available engine and write its evidence."""
    from .plots import site_timeline, timeline

    demo = example_module(slug, "demonstration")
    out = evidence_dir(slug)
    out.mkdir(parents=True, exist_ok=True)
    made: list[engines.Database] = []

    def new_database(engine):
        made.append(engine.create_database())
        return made[-1]

    runs = []
    files: dict[str, str] = {}  # outputs a demonstration shows as they were printed: file name, SHA-256
    try:
        for engine in (e for e in found.values() if isinstance(e, engines.Engine)):
            story.heading(f"{slug} on {engine.label} ({engine.origin}), {rows:,} rows")
            results = demo.demonstrate(engine, rows, story, new_database)
            runs.append({
                "engine": engine.id, "label": engine.label, "origin": engine.origin, "rows": rows,
                # Each step states the rows it ran on: some run on a fraction of the table.
                **{name: {**result["figures"], "rows": result.get("rows", rows)} for name, result in results.items()},
            })
            for result in results.values():
                for name, text in result.get("files", {}).items():
                    (out / name).write_text(text)
                    files[name] = hashlib.sha256(text.encode()).hexdigest()
            # A step without a deploy (a trace, say) has no report to draw; an example of such steps, no timeline.
            panels = [(f"{demo.OPERATIONS[name]} ({name})", result["report"]) for name, result in results.items()
                      if result.get("report") is not None]
            if panels:
                timeline(panels, title=f"Requests during the deploy, {engine.label}, {rows:,} rows",
                         path=out / f"timeline-{engine.id}.svg")
            # Steps measured on the real site (gunicorn behind nginx, visitors with timeouts): a picture of their own.
            on_site = [(f"{demo.OPERATIONS[name]} ({name})", result["site_report"]) for name, result in results.items()
                       if result.get("site_report") is not None]
            if on_site:
                site_timeline(on_site, title=f"Visitors of the site during the deploy, {engine.label}",
                              path=out / f"site-{engine.id}.svg")
    finally:
        for database in made:
            database.drop()
    import django

    record = {
        "slug": slug,
        "fingerprint": fingerprint(slug),
        "django": django.get_version(),
        "generated": datetime.date.today().isoformat(),
        "operations": demo.OPERATIONS,
        # Steps that are migrations, for the lock reference (a data fill is not).
        "migration_steps": list(getattr(demo, "MIGRATION_STEPS", demo.OPERATIONS)),
        "runs": runs,
        **({"files": files} if files else {}),
    }
    record["digest"] = data_digest(record)
    (out / RECORD).write_text(json.dumps(record, indent=2) + "\n")
    # After the record: it names the Django series whose SQL is the guide's, so this SQL lands beside it.
    record_sql(slug, found, story)
    story.say(f"Evidence written to {out.relative_to(EXAMPLES.parent)}")
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nox -s evidence --", description="Record the evidence guides show.")
    parser.add_argument("slugs", nargs="*", help="examples to run (default: all with a demonstration)")
    parser.add_argument("--rows", type=int, default=DEMO_ROWS, help="rows in the demonstration table")
    parser.add_argument("--sql-only", action="store_true",
                        help="only record what sqlmigrate prints on this Django (for the other Django versions)")
    options = parser.parse_args(argv)
    slugs = options.slugs or examples_with_demonstrations()
    unknown = [slug for slug in slugs if slug not in examples_with_demonstrations()]
    if unknown:
        parser.error(f"no demonstration for {', '.join(unknown)}; known: {', '.join(examples_with_demonstrations())}")
    story = Story()
    found = engines.available()
    for role, engine in found.items():
        story.say(f"{role}: {engine.label if isinstance(engine, engines.Engine) else f'skipped ({engine})'}")
    for slug in slugs:
        if options.sql_only:
            if load(slug) is None:
                parser.error(f"{slug} has no evidence yet: run nox -s evidence -- {slug} first")
            record_sql(slug, found, story)
        else:
            record_example(slug, found, options.rows, story)
    return 0


if __name__ == "__main__":
    sys.exit(main())
