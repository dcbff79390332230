"""Deploy verbs: migrate a release, deploy one release over another while the old one serves,
and run any other step (a data fill, a statement) while a release serves."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from handbook_rehearse.lockmodes import blocks_writes

from .engines import Database
from .locks import LockObserver, LockReport, LockSpan
from .releases import CommandRun, Release
from .workload import DEFAULT_TRAFFIC, RunningWorkload, Traffic, WorkloadReport


def migrate(release: Release, database: Database, *args: str) -> CommandRun:
    """Apply a release's migrations (timed, output kept)."""
    return release.run("migrate", "--no-input", *args, database=database, role="migrate")


def run_sql(database: Database, *statements: str) -> CommandRun:
    """Run statements in one transaction of their own (one statement: autocommit), timed like a command."""
    started, clock = time.time(), time.perf_counter()
    try:
        with database.connect() as connection:
            cursor = connection.cursor()
            if len(statements) > 1:
                cursor.execute("BEGIN")
            for statement in statements:
                cursor.execute(statement)
            if len(statements) > 1:
                cursor.execute("COMMIT")
        returncode, error = 0, ""
    except Exception as exc:  # reported, like a failed command
        returncode, error = 1, f"{type(exc).__name__}: {exc}"
    return CommandRun(("sql", *statements), returncode, "", error, started, time.perf_counter() - clock)


class OpenTransaction:
    """A transaction that reads a table and stays open for some seconds, as a slow request or report would.

    It holds the weakest table lock (ACCESS SHARE on PostgreSQL, a shared metadata lock on MariaDB, SQLite's
    SHARED lock on the file) until it ends; a migration that needs a stronger lock waits for it. ``start()``
    opens it (pass it as a deploy's ``before_migration``), ``join()`` waits for it to end; also a context manager.
    ``isolation`` (PostgreSQL, MariaDB) sets its isolation level, e.g. ``REPEATABLE READ``: a snapshot held to the end.
    """

    def __init__(self, database: Database, table: str, seconds: float, isolation: str | None = None):
        if isolation and database.engine.vendor == "sqlite":
            raise ValueError("SQLite transactions have no isolation levels to choose")
        self.database, self.table, self.seconds, self.isolation = database, table, seconds, isolation
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._hold, daemon=True)

    def _hold(self) -> None:
        with self.database.connect() as connection:
            cursor = connection.cursor()
            if self.isolation and self.database.engine.vendor == "mysql":
                cursor.execute(f"SET TRANSACTION ISOLATION LEVEL {self.isolation}")  # applies to the next one
            if self.isolation and self.database.engine.vendor == "postgresql":
                cursor.execute(f"BEGIN ISOLATION LEVEL {self.isolation}")
            else:
                cursor.execute("BEGIN")
            cursor.execute(f"SELECT COUNT(*) FROM (SELECT 1 FROM {self.table} LIMIT 1) AS one")
            cursor.fetchall()
            self._ready.set()
            time.sleep(self.seconds)
            cursor.execute("COMMIT")

    def start(self) -> None:
        """Open the transaction; return once it has read the table."""
        self._thread.start()
        if not self._ready.wait(timeout=30):
            raise RuntimeError(f"the open transaction on {self.table} did not start")

    def join(self) -> None:
        """Wait for the transaction to end."""
        if self._thread.is_alive():
            self._thread.join(timeout=self.seconds + 30)

    def __enter__(self) -> OpenTransaction:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.join()


def hold_lock(database: Database, table: str, mode: str, seconds: float) -> CommandRun:
    """Hold a PostgreSQL lock of ``mode`` (SQL's name) on ``table`` for ``seconds``: a contrast's condition."""
    return run_sql(database, f"LOCK TABLE {table} IN {mode} MODE", f"SELECT pg_sleep({seconds})")


# A request slower than this, from its scheduled start, "waited": a user would notice it.
WAITED_MS = 100


@dataclass
class DeployReport:
    """What happened during a rolling deploy from ``old`` to ``new`` (or a step run while ``old`` serves:
    then ``migration`` is that step and ``new`` did nothing)."""

    old: WorkloadReport
    new: WorkloadReport
    migration: CommandRun
    locks: LockReport | None
    traffic: Traffic = DEFAULT_TRAFFIC

    def old_during_migration(self, kind: str | None = None) -> float:
        """The longest a request of the old release took while the migration ran, in ms."""
        return self.old.worst_ms(kind, self.migration.started, self.migration.ended)

    def during_migration(self, kind: str) -> dict:
        """The old release's requests of ``kind`` during the migration: see :meth:`WorkloadReport.window`."""
        return self.old.window(kind, self.migration.started, self.migration.ended, waited_ms=WAITED_MS)

    @property
    def failures(self) -> dict[str, int]:
        """Failed operations by release."""
        return {r.release: sum(r.errors.values()) for r in (self.old, self.new) if r.errors}

    def longest_lock(self, table: str) -> LockSpan | None:
        """The migration's longest-held lock on ``table`` seen by the observer, or None."""
        if not (self.locks and self.locks.observable):
            return None
        return max(self.locks.held("migrate", table), key=lambda span: span.ms, default=None)

    def completed_under_lock(self, kind: str, table: str) -> int:
        """How many requests of ``kind`` began and finished while the migration held its longest lock on ``table``."""
        span = self.longest_lock(table)
        return len(self.old.completed_within(kind, span.first, span.last)) if span else 0

    def figures(self, table: str) -> dict:
        """The numbers a guide quotes from this deploy, for the locks on ``table``."""
        locks = self.locks if self.locks and self.locks.observable else None
        held = locks.held("migrate", table) if locks else []
        blocking = [span for span in held if blocks_writes(span.mode)]
        waits = locks.waits("workload") if locks else []
        errors = self.old.errors + self.new.errors
        reads, writes = self.during_migration("read"), self.during_migration("write")
        return {
            "migration_ms": round(self.migration.seconds * 1000),
            "traffic": self.traffic.describe(),
            "lock_modes": sorted({span.mode for span in held}) if locks and locks.modes_observable else None,
            "lock_held_ms": round(locks.longest(held)) if locks and locks.modes_observable else None,
            # What a reader cares about: the longest the migration held a mode that writes wait for.
            "write_blocking_lock_ms": round(locks.longest(blocking)) if locks and locks.modes_observable else None,
            # MariaDB shows the schema change's thread states, not its locks: how long it was seen running.
            "schema_change_ms": round(locks.longest(held)) if locks and not locks.modes_observable else None,
            "reads": reads,
            "writes": writes,
            "reads_under_lock": self.completed_under_lock("read", table) if locks else None,
            "writes_under_lock": self.completed_under_lock("write", table) if locks else None,
            "writer_worst_wait_ms": round(writes["max"]),
            "reader_worst_wait_ms": round(reads["max"]),
            "request_worst_wait_ms": round(max(writes["max"], reads["max"])),
            "migration_lock_wait_ms": round(locks.longest(locks.waits("migrate", table))) if locks else None,
            "lock_waits": len(waits) if locks else None,
            "longest_lock_wait_ms": round(locks.longest(waits)) if locks else None,
            "failed_requests": sum(errors.values()),
            "old_release_failures": sum(self.old.errors.values()),
            "new_release_failures": sum(self.new.errors.values()),
            "first_error": errors.most_common(1)[0][0] if errors else None,
            "errors": [[count, error] for error, count in errors.most_common(5)],
        }

    def summary(self) -> str:
        """What failed for whom, the old release's requests during the migration, and the locks seen."""
        state = "succeeded" if self.migration.ok else f"FAILED ({self.migration.error_line()})"
        lines = [f"migration of {self.new.release} {state} in {self.migration.seconds * 1000:.0f} ms"]
        for kind in ("read", "write"):
            w = self.during_migration(kind)
            if w["attempted"] or w["max"]:
                lines.append(
                    f"{self.old.release} {kind}s during it: {w['attempted']} due, {w['failed']} failed, "
                    f"{w['waited']} over {WAITED_MS} ms; p50 {w['p50']:.0f} ms, p99 {w['p99']:.0f} ms, "
                    f"max {w['max']:.0f} ms; longest stall {w['longest_stall_ms']} ms")
        lines += [self.old.summary(), self.new.summary()]
        if self.locks:
            lines.append(self.locks.summary())
        return "\n".join(lines)


def rolling_deploy(
    old: Release,
    new: Release,
    database: Database,
    *,
    watch_tables: list[str] | None = None,
    settle: float = 0.2,
    overlap: float = 0.3,
    traffic: Traffic = DEFAULT_TRAFFIC,
    before_migration: Callable[[], None] | None = None,
    migrate_with: Callable[[], CommandRun] | None = None,
) -> DeployReport:
    """Migrate ``new`` while ``old`` serves its workload, then run both, then let ``new`` take over.
    ``before_migration`` runs once the old release serves, just before the migration starts; ``migrate_with``
    migrates instead of ``migrate`` (another command, other settings); the new release serves only if it succeeds."""
    old_load = RunningWorkload(old, database, traffic)
    time.sleep(settle)
    if before_migration:
        before_migration()
    migration, locks = _watched(migrate_with or (lambda: migrate(new, database)), database, watch_tables)
    new_load = RunningWorkload(new, database, traffic) if migration.ok else None
    time.sleep(overlap)
    old_report = old_load.stop()
    new_report = new_load.stop() if new_load else WorkloadReport(new.name, [])
    return DeployReport(old_report, new_report, migration, locks, traffic)


def while_serving(
    release: Release,
    database: Database,
    step: Callable[[], CommandRun],
    *,
    watch_tables: list[str] | None = None,
    settle: float = 0.2,
    after: float = 0.2,
    traffic: Traffic = DEFAULT_TRAFFIC,
) -> DeployReport:
    """Run ``step`` (a command, a statement) while ``release`` serves its workload, watching locks."""
    load = RunningWorkload(release, database, traffic)
    time.sleep(settle)
    run, locks = _watched(step, database, watch_tables)
    time.sleep(after)
    return DeployReport(load.stop(), WorkloadReport("(no new release)", []), run, locks, traffic)


def _watched(step: Callable[[], CommandRun], database: Database, tables: list[str] | None):
    """Run ``step``, watching locks on ``tables`` meanwhile (if any are named)."""
    if not tables:
        return step(), None
    with LockObserver(database, tables) as observer:
        run = step()
    return run, observer.report
