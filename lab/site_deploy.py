"""A migration run while a release's real site serves visitors: what the visitors saw.

:class:`LiveSite` is a deploy of several steps on such a site, with a background worker of the old release writing
until it is replaced. :func:`migrate_while_serving` starts the old release's :class:`~lab.site.Site` (gunicorn
behind nginx), sends it open-loop traffic (:mod:`lab.traffic`) at :data:`~lab.capacity.FRACTION` of the capacity
measured for that site on this machine, runs the migration, and returns a :class:`SiteReport`: every request,
failures by kind, and the migration's command run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from . import capacity
from .deploy import migrate
from .engines import Database
from .releases import CommandRun, Release
from .site import Shape, Site
from .site_urls import BUSY, UNTOUCHED
from .story import Story
from .traffic import Load, RunningTraffic, TrafficReport
from .workload import RunningWorkload, Traffic, WorkloadReport

SETTLE = 0.5  # seconds of traffic before the migration starts
AFTER = 0.5  # seconds of traffic once the site has recovered from the migration (its workers answer at once again)
_capacities: dict[tuple, capacity.Capacity] = {}


def site_capacity(site: Site, release: Release, story: Story) -> capacity.Capacity:
    """The capacity of ``site`` (serving ``release``), measured once per engine and shape: every example's pages are
    a few single-row queries, so the stack, not the example, sets it. Processes that share a file named by
    :data:`~lab.capacity.SHARED_VARIABLE` (a test run's workers) measure it once between them."""
    key = (site.database.engine.id, site.shape)
    if key not in _capacities:
        def measured() -> capacity.Capacity:
            with story.step(f"Measuring the capacity of {site.shape.describe()}"):
                return capacity.measure(site.address)

        _capacities[key] = capacity.shared(f"{key[0]} {key[1]}", measured)
        story.say(f"capacity: {_capacities[key].describe()}")
    return _capacities[key]


@dataclass
class SiteReport:
    """What the visitors of a site saw while a migration ran."""

    traffic: TrafficReport
    migration: CommandRun
    shape: Shape
    capacity: float
    recovery_s: float  # from the migration's end until the site's workers answered at once again

    def figures(self) -> dict:
        """The numbers a guide quotes: per group of pages, over the whole run (from :data:`SETTLE` before the
        migration until :data:`AFTER` after the site recovered), and how long after the migration's end requests
        still failed."""
        failed = [r for r in self.traffic.requests if r.failure]
        end = self.migration.ended
        return {
            "migration_ms": round(self.migration.seconds * 1000),
            "migration_ok": self.migration.ok,
            "site": self.shape.describe(),
            "load": self.traffic.load.describe(),
            "rate": round(self.traffic.load.rate),
            "capacity": round(self.capacity),
            "timeout_s": self.traffic.load.timeout,
            "capacity_step_s": capacity.STEP_SECONDS,
            "settle_s": SETTLE,
            "after_s": AFTER,
            "upstream_timeout_s": self.shape.upstream_timeout,
            BUSY: self.traffic.window(BUSY),
            UNTOUCHED: self.traffic.window(UNTOUCHED),
            "in_flight_max": self.traffic.window()["in_flight_max"],
            "failed_requests": len(failed),
            "window_s": round(self.traffic.requests[-1].scheduled - self.traffic.requests[0].scheduled, 1)
            if self.traffic.requests else 0,
            # Requests that arrived after the migration had ended and still failed: the queue it left behind.
            "failing_after_ms": round(max(0.0, max((r.scheduled for r in failed), default=end) - end) * 1000),
            "recovery_ms": round(self.recovery_s * 1000),
        }

    def summary(self) -> str:
        state = "succeeded" if self.migration.ok else f"FAILED ({self.migration.error_line()})"
        return (f"migration {state} in {self.migration.seconds * 1000:.0f} ms; visitors at "
                f"{self.traffic.load.rate:.0f}/s: {self.traffic.summary()}")


def migrate_while_serving(database: Database, old: Release, new: Release, story: Story, *, shape: Shape = Shape(),
                          timeout: float = 3.0, before_migration: Callable[[], None] | None = None,
                          migrate_with: Callable[[], CommandRun] | None = None) -> SiteReport:
    """Migrate to ``new`` while ``old``'s site serves visitors who give up after ``timeout`` seconds.
    ``before_migration`` runs just before the migration (a transaction it must wait for); ``migrate_with``
    migrates instead of plain ``migrate``."""
    with Site(old, database, shape) as site:
        found = site_capacity(site, old, story)
        load = Load(found.rate * capacity.FRACTION, timeout=timeout)
        with story.step(f"Migrating to {new.name} while {shape.describe()} serve {old.name} to visitors: "
                        f"{load.describe()}"):
            traffic = RunningTraffic(site.address, load)
            try:
                time.sleep(SETTLE)
                if before_migration:
                    before_migration()
                migration = (migrate_with or (lambda: migrate(new, database)))()
                recovery = site.balancer.recovered()
                time.sleep(AFTER)
            finally:
                report = traffic.stop()
    result = SiteReport(report, migration, shape, found.rate, recovery)
    story.say(result.summary())
    return result


# A background worker of a release (a Celery or RQ worker, a cron job): it writes, through the release's own models,
# outside any web request, and is replaced after the web instances, as workers usually are.
WORKER_TRAFFIC = Traffic(readers=0, writers=1, period=0.02)


@dataclass
class Step:
    """One step of a deploy on a live site: its name, wall-clock span, and the command it ran (if any)."""

    name: str
    started: float
    ended: float
    run: CommandRun | None = None


@dataclass
class LiveReport:
    """What the visitors and the background workers of a live site saw through a deploy's steps."""

    traffic: TrafficReport
    workers: list[WorkloadReport]
    steps: list[Step]
    capacity: float

    def figures(self) -> dict:
        """Visitors' failures and worst wait, and the workers' failures, over the whole deploy."""
        everyone = self.traffic.window()
        return {
            "rate": round(self.traffic.load.rate),
            "capacity": round(self.capacity),
            "visitor_requests": everyone["requests"],
            "visitor_failures": everyone["failed"],
            "visitor_worst_ms": everyone["max"],
            # The first worker is the old release's: what it wrote is what the deploy had to account for.
            "old_worker_writes": self.workers[0].operations if self.workers else 0,
            "worker_failures": sum(sum(report.errors.values()) for report in self.workers),
        }

    def summary(self) -> str:
        steps = "; ".join(f"{s.name} ({'exit ' + str(s.run.returncode) if s.run else 'done'})" for s in self.steps)
        return f"{steps}\nvisitors: {self.traffic.summary()}\n" + "\n".join(w.summary() for w in self.workers)


class LiveSite:
    """``release``'s site serving visitors (at :data:`~lab.capacity.FRACTION` of its capacity) and its background
    worker writing, through a deploy's steps; :meth:`close` stops everything and returns a :class:`LiveReport`."""

    def __init__(self, database: Database, release: Release, story: Story, *, shape: Shape = Shape(),
                 timeout: float = 3.0):
        self.database, self.story = database, story
        self.site = Site(release, database, shape)
        self.visitors = None
        try:
            self.capacity = site_capacity(self.site, release, story)
            self.visitors = RunningTraffic(self.site.address, Load(self.capacity.rate * capacity.FRACTION,
                                                                   timeout=timeout))
            self.worker = RunningWorkload(release, database, WORKER_TRAFFIC)
        except BaseException:
            if self.visitors:
                self.visitors.process.kill()
            self.site.close()
            raise
        self.workers: list[WorkloadReport] = []
        self.steps: list[Step] = []

    def run(self, name: str, step: Callable[[], CommandRun]) -> CommandRun:
        """Run ``step`` (a migration, a command) while the site serves and the worker writes."""
        started = time.time()
        with self.story.step(name):
            result = step()
        self.steps.append(Step(name, started, time.time(), result))
        self.story.say(f"exit status {result.returncode}" + (f": {result.error_line()}" if not result.ok else ""))
        return result

    def roll_to(self, release: Release) -> None:
        """Replace every web instance with one of ``release``, one at a time (the worker stays as it is)."""
        started = time.time()
        with self.story.step(f"Replacing the web instances with {release.name}"):
            for old in list(self.site.instances):
                self.site.replace(old, release)
        self.steps.append(Step(f"web on {release.name}", started, time.time()))

    def replace_worker(self, release: Release) -> None:
        """Stop the background worker, then start one of ``release``."""
        started = time.time()
        with self.story.step(f"Replacing the background worker with {release.name}"):
            self.workers.append(self.worker.stop())
            self.worker = RunningWorkload(release, self.database, WORKER_TRAFFIC)
        self.steps.append(Step(f"worker on {release.name}", started, time.time()))

    def close(self) -> LiveReport:
        try:
            report = self.visitors.stop()
            self.workers.append(self.worker.stop())
        finally:
            self.site.close()
        result = LiveReport(report, self.workers, self.steps, self.capacity.rate)
        self.story.say(result.summary())
        return result
