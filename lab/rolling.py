"""A rolling update, as production runs one: several instances of the site, replaced one at a time.

:func:`rolling_update` starts ``instances`` instances of the old release, each a workload process with its share of
the site's clients. It runs the new release's migration while they serve (or, ``migrate_when=AFTER``, once every
instance runs the new code: the wrong order; or, ``NO_MIGRATION``, not at all: code rolled back over the schema it
has), then replaces them one at a time: a new instance starts, then an old one stops, so the site never has fewer
instances than it had. Between two replacements both releases serve, in the proportions of the moment. A migration
that fails stops the rollout, as a deploy pipeline would. The :class:`RollingReport` says what failed, per release
and per phase; it is a :class:`~lab.deploy.DeployReport` too, so a guide quotes the same figures of either.

:func:`rolling` is the verb a demonstration tells its story with.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from .deploy import DeployReport, _watched, migrate
from .engines import Database
from .releases import CommandRun, Release
from .story import Story
from .workload import DEFAULT_TRAFFIC, RunningWorkload, Traffic, WorkloadReport

FIRST, AFTER, NO_MIGRATION = "migrations first", "after", "no migration"
BEFORE, MIGRATION = "before", "migration"


def shares(traffic: Traffic, instances: int) -> list[Traffic]:
    """The site's clients dealt out to ``instances`` instances as evenly as they go; every instance has one at
    least, so the total grows when there are fewer clients than instances."""
    if instances < 1:
        raise ValueError(f"a rolling update needs one instance at least, not {instances}")

    def deal(clients: int) -> list[int]:
        return [clients // instances + (1 if index < clients % instances else 0) for index in range(instances)]

    readers, writers = deal(traffic.readers), deal(traffic.writers)
    return [Traffic(max(r, 0), max(w, 1 if r == 0 else 0), traffic.period) for r, w in zip(readers, writers)]


def replaced(index: int, instances: int) -> str:
    """The name of the phase of the ``index``-th replacement (from 1): ``replacing 2 of 4``. It runs from the start
    of the new instance, through the stop of the old one, to the start of the next replacement."""
    return f"replacing {index} of {instances}"


@dataclass
class Phase:
    """A stretch of the update: its name and its wall-clock start and end."""

    name: str
    start: float
    end: float


def _merged(release: str, reports: list[WorkloadReport]) -> WorkloadReport:
    """Every instance of one release as one report."""
    return WorkloadReport(release, [sample for report in reports if report.release == release
                                    for sample in report.samples])


@dataclass
class RollingReport(DeployReport):
    """What every instance did during a rolling update, the migration, and the phases in order. As a
    :class:`~lab.deploy.DeployReport`, ``old`` and ``new`` hold every instance of each release."""

    instances: list[WorkloadReport] = field(default_factory=list)
    phases: list[Phase] = field(default_factory=list)
    size: int = 0  # instances of the site
    migrated: bool = True  # False when the update ran no migration (``migration`` then marks the rollout's start)

    def phase_of(self, moment: float) -> str:
        """The name of the phase a moment belongs to (the last one for a moment after every phase)."""
        for phase in self.phases:
            if moment < phase.end:
                return phase.name
        return self.phases[-1].name

    def requests_by_phase(self) -> Counter:
        """Requests by (release, phase), counted at the moment each was due."""
        return Counter((report.release, self.phase_of(sample.scheduled))
                       for report in self.instances for sample in report.samples)

    def failures_by_phase(self) -> Counter:
        """Failed requests by (release, phase); :attr:`failures` counts them by release alone."""
        return Counter((report.release, self.phase_of(sample.scheduled))
                       for report in self.instances for sample in report.samples if sample.error)

    def errors(self, release: str | None = None) -> Counter:
        """Errors by their first line, of one release or of all."""
        return sum((report.errors for report in self.instances if release in (None, report.release)), Counter())

    def by_phase(self) -> list[dict]:
        """Per phase, in order: its name, length, and each release's requests and failures."""
        requests, failures = self.requests_by_phase(), self.failures_by_phase()
        return [{
            "phase": phase.name,
            "ms": round((phase.end - phase.start) * 1000),
            "old_requests": requests[self.old.release, phase.name],
            "old_failed": failures[self.old.release, phase.name],
            "new_requests": requests[self.new.release, phase.name],
            "new_failed": failures[self.new.release, phase.name],
        } for phase in self.phases]

    def figures(self, table: str) -> dict:
        """:meth:`DeployReport.figures`, with the failures of each release in each phase (``phases``)."""
        figures = super().figures(table)
        if not self.migrated:  # nothing ran: no migration's time, lock or window to quote
            for name in ("migration_ms", "lock_modes", "lock_held_ms", "schema_change_ms"):
                figures[name] = None
        return {**figures, "instances": self.size, "old_release": self.old.release, "new_release": self.new.release,
                "phases": self.by_phase()}

    def summary(self) -> str:
        """A line per phase: requests and failures of each release; the errors; the locks seen."""
        lines = []
        if self.migrated:
            state = "succeeded" if self.migration.ok else f"FAILED ({self.migration.error_line()})"
            lines.append(f"migration of {self.new.release} {state} in {self.migration.seconds * 1000:.0f} ms")
        for row in self.by_phase():
            served = [f"{release}: {row[f'{side}_requests']} requests, {row[f'{side}_failed']} failed"
                      for side, release in (("old", self.old.release), ("new", self.new.release))
                      if row[f"{side}_requests"]]
            lines.append(f"{row['phase']} ({row['ms']} ms): {'; '.join(served) or 'none'}")
        lines += [f"{count}× {error}" for error, count in self.errors().most_common(3)]
        if self.locks:
            lines.append(self.locks.summary())
        return "\n".join(lines)


def rolling_update(
    old: Release,
    new: Release,
    database: Database,
    *,
    instances: int = 4,
    migrate_when: str = FIRST,
    watch_tables: list[str] | None = None,
    step: float = 0.25,
    settle: float = 0.2,
    after: float = 0.25,
    traffic: Traffic = DEFAULT_TRAFFIC,
) -> RollingReport:
    """Replace ``instances`` instances of ``old`` by instances of ``new``, one at a time, ``step`` seconds apart,
    with ``new``'s migration run first (``migrate_when=FIRST``), once every instance runs ``new`` (``AFTER``), or
    not at all (``NO_MIGRATION``), watching locks on ``watch_tables`` while it runs. The site's ``traffic`` is
    shared between the instances serving at any moment. A failed migration run first stops the rollout."""
    if migrate_when not in (FIRST, AFTER, NO_MIGRATION):
        raise ValueError(f"migrate_when is {FIRST!r}, {AFTER!r} or {NO_MIGRATION!r}, not {migrate_when!r}")
    dealt = shares(traffic, instances)
    serving = [RunningWorkload(old, database, share) for share in dealt]
    finished: list[WorkloadReport] = []
    phases: list[Phase] = []
    migration, locks = None, None

    def run_migration() -> None:
        nonlocal migration, locks
        migration, locks = _watched(lambda: migrate(new, database), database, watch_tables)
        phases.append(Phase(MIGRATION, migration.started, migration.ended))

    try:
        begun = time.time()
        time.sleep(settle)
        phases.append(Phase(BEFORE, begun, time.time()))
        if migrate_when == FIRST:
            run_migration()
        if migration is None or migration.ok:
            for index, share in enumerate(dealt):
                started = time.time()
                replacement = RunningWorkload(new, database, share)  # the new instance serves before the old stops
                finished.append(serving[index].stop())
                serving[index] = replacement
                time.sleep(step)
                phases.append(Phase(replaced(index + 1, instances), started, time.time()))
            if migrate_when == AFTER:
                run_migration()
        started = time.time()
        time.sleep(after)
        phases.append(Phase(AFTER, started, time.time()))
    finally:
        finished += [instance.stop() for instance in serving]
    migrated = migration is not None
    if migration is None:  # the rollout's own span stands for the step that did not run
        migration = CommandRun(("no migration",), 0, "", "", phases[1].start, 0.0)
    return RollingReport(_merged(old.name, finished), _merged(new.name, finished), migration, locks, traffic,
                         instances=finished, phases=phases, size=instances, migrated=migrated)


def rolling(database: Database, old: Release, new: Release, story: Story, tables: list[str] | None = None,
            migrate_when: str = FIRST, instances: int = 4) -> RollingReport:
    """Roll ``new`` out over ``instances`` instances of ``old``, migrating as ``migrate_when`` says, watching
    locks on ``tables``; says what happened, phase by phase."""
    order = {FIRST: "migrations first", AFTER: "code first, migrations after", NO_MIGRATION: "no migration"}
    with story.step(f"Rolling {new.name} out over {instances} instances of {old.name} ({order[migrate_when]})"):
        report = rolling_update(old, new, database, instances=instances, migrate_when=migrate_when,
                                watch_tables=tables)
    story.say(report.summary())
    return report
