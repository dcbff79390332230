"""A rolling update, as production runs one: several instances of the site, replaced one at a time.

:func:`rolling_update` starts ``instances`` instances of the old release, each a workload process with its share of
the site's clients. It runs the new release's migration while they serve (or, ``migrate="after"``, once every
instance runs the new code: the wrong order), then replaces them one at a time: a new instance starts, then an old
one stops, so the site never has fewer instances than it had. Between two replacements both releases serve, in the
proportions of the moment. The :class:`RollingReport` says what failed, per release and per phase.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

from .deploy import migrate
from .engines import Database
from .releases import CommandRun, Release
from .workload import DEFAULT_TRAFFIC, RunningWorkload, Traffic, WorkloadReport

FIRST, AFTER = "migrations first", "after"


def shares(traffic: Traffic, instances: int) -> list[Traffic]:
    """The site's clients dealt out to ``instances`` instances as evenly as they go; every instance has one at
    least, so the total grows when there are fewer clients than instances."""
    if instances < 1:
        raise ValueError(f"a rolling update needs one instance at least, not {instances}")

    def deal(clients: int) -> list[int]:
        return [clients // instances + (1 if index < clients % instances else 0) for index in range(instances)]

    readers, writers = deal(traffic.readers), deal(traffic.writers)
    return [Traffic(max(r, 0), max(w, 1 if r == 0 else 0), traffic.period) for r, w in zip(readers, writers)]


@dataclass
class Phase:
    """A stretch of the update: its name and its wall-clock start and end."""

    name: str
    start: float
    end: float


@dataclass
class RollingReport:
    """What every instance did during a rolling update, the migration, and the phases in order."""

    instances: list[WorkloadReport]
    migration: CommandRun | None
    phases: list[Phase]

    def phase_of(self, moment: float) -> str:
        """The name of the phase a moment belongs to (the last one for a moment after every phase)."""
        for phase in self.phases:
            if moment < phase.end:
                return phase.name
        return self.phases[-1].name

    def requests(self) -> Counter:
        """Requests by (release, phase), counted at the moment each was due."""
        return Counter((report.release, self.phase_of(sample.scheduled))
                       for report in self.instances for sample in report.samples)

    def failures(self) -> Counter:
        """Failed requests by (release, phase)."""
        return Counter((report.release, self.phase_of(sample.scheduled))
                       for report in self.instances for sample in report.samples if sample.error)

    def errors(self, release: str | None = None) -> Counter:
        """Errors by their first line, of one release or of all."""
        return sum((report.errors for report in self.instances if release in (None, report.release)), Counter())

    def summary(self) -> str:
        """A line per phase: requests and failures of each release."""
        requests, failures = self.requests(), self.failures()
        releases = list(dict.fromkeys(report.release for report in self.instances))
        lines = []
        if self.migration is not None:
            state = "succeeded" if self.migration.ok else f"FAILED ({self.migration.error_line()})"
            lines.append(f"migration {state} in {self.migration.seconds * 1000:.0f} ms")
        for phase in self.phases:
            served = [f"{release}: {requests[release, phase.name]} requests, {failures[release, phase.name]} failed"
                      for release in releases if requests[release, phase.name]]
            lines.append(f"{phase.name} ({(phase.end - phase.start) * 1000:.0f} ms): {'; '.join(served) or 'none'}")
        lines += [f"{count}× {error}" for error, count in self.errors().most_common(3)]
        return "\n".join(lines)


def rolling_update(
    old: Release,
    new: Release,
    database: Database,
    *,
    instances: int = 4,
    migrate_when: str = FIRST,
    step: float = 0.4,
    settle: float = 0.3,
    after: float = 0.4,
    traffic: Traffic = DEFAULT_TRAFFIC,
) -> RollingReport:
    """Replace ``instances`` instances of ``old`` by instances of ``new``, one at a time, ``step`` seconds apart,
    with ``new``'s migration run first (``migrate_when=FIRST``) or once every instance runs ``new`` (``AFTER``).
    The site's ``traffic`` is shared between the instances serving at any moment."""
    if migrate_when not in (FIRST, AFTER):
        raise ValueError(f"migrate_when is {FIRST!r} or {AFTER!r}, not {migrate_when!r}")
    dealt = shares(traffic, instances)
    serving = [RunningWorkload(old, database, share) for share in dealt]
    finished: list[WorkloadReport] = []
    phases: list[Phase] = []
    migration = None
    try:
        begun = time.time()
        time.sleep(settle)
        phases.append(Phase("before", begun, time.time()))
        if migrate_when == FIRST:
            migration = migrate(new, database)
            phases.append(Phase("migration", migration.started, migration.ended))
        for index, share in enumerate(dealt):
            started = time.time()
            replacement = RunningWorkload(new, database, share)  # the new instance serves before the old one stops
            finished.append(serving[index].stop())
            serving[index] = replacement
            time.sleep(step)
            phases.append(Phase(f"{index + 1} of {instances} replaced", started, time.time()))
        if migrate_when == AFTER:
            migration = migrate(new, database)
            phases.append(Phase("migration", migration.started, migration.ended))
        started = time.time()
        time.sleep(after)
        phases.append(Phase(AFTER, started, time.time()))
    finally:
        finished += [instance.stop() for instance in serving]
    return RollingReport(finished, migration, phases)
