"""Deploy verbs: migrate a release, deploy one release over another while the old one serves,
and run any other step (a data fill, a statement) while a release serves."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from .engines import Database
from .locks import LockObserver, LockReport
from .releases import CommandRun, Release
from .workload import RunningWorkload, WorkloadReport


def migrate(release: Release, database: Database, *args: str) -> CommandRun:
    """Apply a release's migrations (timed, output kept)."""
    return release.run("migrate", "--no-input", *args, database=database, role="migrate")


def run_sql(database: Database, sql: str) -> CommandRun:
    """Run one statement in a transaction of its own, timed like a command."""
    started, clock = time.time(), time.perf_counter()
    try:
        with database.connect() as connection:
            connection.cursor().execute(sql)
        returncode, error = 0, ""
    except Exception as exc:  # reported, like a failed command
        returncode, error = 1, f"{type(exc).__name__}: {exc}"
    return CommandRun(("sql", sql), returncode, "", error, started, time.perf_counter() - clock)


@dataclass
class DeployReport:
    """What happened during a rolling deploy from ``old`` to ``new`` (or a step run while ``old`` serves:
    then ``migration`` is that step and ``new`` did nothing)."""

    old: WorkloadReport
    new: WorkloadReport
    migration: CommandRun
    locks: LockReport | None

    def old_during_migration(self, kind: str | None = None) -> float:
        """The longest an operation of the old release took while the migration ran, in ms."""
        return self.old.worst_ms(kind, self.migration.started, self.migration.ended)

    @property
    def failures(self) -> dict[str, int]:
        """Failed operations by release."""
        return {r.release: sum(r.errors.values()) for r in (self.old, self.new) if r.errors}

    def figures(self, table: str) -> dict:
        """The numbers a guide quotes from this deploy, for the locks on ``table``."""
        locks = self.locks if self.locks and self.locks.observable else None
        held = locks.held("migrate", table) if locks else []
        waits = locks.waits("workload") if locks else []
        errors = self.old.errors + self.new.errors
        return {
            "migration_ms": round(self.migration.seconds * 1000),
            "lock_modes": sorted({span.mode for span in held}) if locks else None,
            "lock_held_ms": round(locks.longest(held)) if locks else None,
            "lock_held_ms_by_mode": {
                mode: round(locks.longest([s for s in held if s.mode == mode])) for mode in {s.mode for s in held}
            } if locks else None,
            "writer_worst_wait_ms": round(self.old_during_migration("write")),
            "reader_worst_wait_ms": round(self.old_during_migration("read")),
            "request_worst_wait_ms": round(self.old_during_migration()),
            "lock_waits": len(waits) if locks else None,
            "longest_lock_wait_ms": round(locks.longest(waits)) if locks else None,
            "failed_requests": sum(errors.values()),
            "old_release_failures": sum(self.old.errors.values()),
            "new_release_failures": sum(self.new.errors.values()),
            "first_error": errors.most_common(1)[0][0] if errors else None,
            "errors": [[count, error] for error, count in errors.most_common(5)],
            "writes_during_migration": len(self.old.of("write", self.migration.started, self.migration.ended)),
        }

    def summary(self) -> str:
        """What failed for whom, the longest wait, and the locks seen."""
        state = "succeeded" if self.migration.ok else f"FAILED ({self.migration.error_line()})"
        lines = [
            f"migration of {self.new.release} {state} in {self.migration.seconds * 1000:.0f} ms",
            self.old.summary(),
            self.new.summary(),
            f"longest wait of {self.old.release} during the migration: {self.old_during_migration():.0f} ms",
        ]
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
) -> DeployReport:
    """Migrate ``new`` while ``old`` serves its workload, then run both, then let ``new`` take over."""
    old_load = RunningWorkload(old, database)
    time.sleep(settle)
    migration, locks = _watched(lambda: migrate(new, database), database, watch_tables)
    new_load = RunningWorkload(new, database) if migration.ok else None
    time.sleep(overlap)
    old_report = old_load.stop()
    new_report = new_load.stop() if new_load else WorkloadReport(new.name, [])
    return DeployReport(old_report, new_report, migration, locks)


def while_serving(
    release: Release,
    database: Database,
    step: Callable[[], CommandRun],
    *,
    watch_tables: list[str] | None = None,
    settle: float = 0.2,
    after: float = 0.2,
) -> DeployReport:
    """Run ``step`` (a command, a statement) while ``release`` serves its workload, watching locks."""
    load = RunningWorkload(release, database)
    time.sleep(settle)
    run, locks = _watched(step, database, watch_tables)
    time.sleep(after)
    return DeployReport(load.stop(), WorkloadReport("(no new release)", []), run, locks)


def _watched(step: Callable[[], CommandRun], database: Database, tables: list[str] | None):
    """Run ``step``, watching locks on ``tables`` meanwhile (if any are named)."""
    if not tables:
        return step(), None
    with LockObserver(database, tables) as observer:
        run = step()
    return run, observer.report
