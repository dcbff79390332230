"""A migration run while a release's real site serves visitors: what the visitors saw.

:func:`migrate_while_serving` starts the old release's :class:`~lab.site.Site` (gunicorn behind nginx), sends it
open-loop traffic (:mod:`lab.traffic`) at :data:`~lab.capacity.FRACTION` of the capacity measured for that site on
this machine, runs the migration, and returns a :class:`SiteReport`: every request, failures by kind, and the
migration's command run.
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

SETTLE = 1.0  # seconds of traffic before the migration starts
AFTER = 2.0  # seconds of traffic after it ends: the backlog a stall leaves takes time to clear
_capacities: dict[tuple, capacity.Capacity] = {}


def site_capacity(site: Site, release: Release, story: Story) -> capacity.Capacity:
    """The capacity of ``site`` (serving ``release``), measured once per engine, release and shape in a process."""
    key = (site.database.engine.id, release, site.shape)
    if key not in _capacities:
        with story.step(f"Measuring the capacity of {site.shape.describe()}"):
            _capacities[key] = capacity.measure(site.address)
        story.say(f"capacity: {_capacities[key].describe()}")
    return _capacities[key]


@dataclass
class SiteReport:
    """What the visitors of a site saw while a migration ran."""

    traffic: TrafficReport
    migration: CommandRun
    shape: Shape
    capacity: float

    def figures(self) -> dict:
        """The numbers a guide quotes: per group of pages, over the whole run (from :data:`SETTLE` before the
        migration to :data:`AFTER` after it), and how long requests kept failing."""
        failed = [r for r in self.traffic.requests if r.failure]
        return {
            "migration_ms": round(self.migration.seconds * 1000),
            "migration_ok": self.migration.ok,
            "site": self.shape.describe(),
            "load": self.traffic.load.describe(),
            "rate": round(self.traffic.load.rate),
            "capacity": round(self.capacity),
            "timeout_s": self.traffic.load.timeout,
            "upstream_timeout_s": self.shape.upstream_timeout,
            BUSY: self.traffic.window(BUSY),
            UNTOUCHED: self.traffic.window(UNTOUCHED),
            "in_flight_max": self.traffic.window()["in_flight_max"],
            "failed_requests": len(failed),
            # From the first failure to the last: how long the site was failing its visitors.
            "failing_ms": round((max(r.ended for r in failed) - min(r.scheduled for r in failed)) * 1000)
            if failed else 0,
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
                time.sleep(AFTER)
            finally:
                report = traffic.stop()
    result = SiteReport(report, migration, shape, found.rate)
    story.say(result.summary())
    return result
