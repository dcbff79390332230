"""A deploy's migration run while the old release's real site serves, reported as the in-process deploys are.

:func:`deploy_on_site` is :func:`lab.verbs.deploy` on the real site (:mod:`lab.site`: gunicorn instances behind
nginx, open-loop visitors who give up after a timeout, at :data:`~lab.capacity.FRACTION` of the capacity measured
for the site on this machine), with the migration's locks watched as there. Its :class:`SiteDeployReport` is a
:class:`~lab.deploy.DeployReport` whose requests are the visitors' on the pages of the migrated tables, so a guide's
figures and claims read the same; it adds what only a site shows: timeouts and 5xx, requests in flight at the worst
moment, the pages on a table the migration leaves alone, and how long the site took to recover.

The site serves the old release through the migration and until it has recovered: what the guides measure is what
the migration does to the release that is serving. Rolling the new release in is :mod:`lab.rolling`'s and
:class:`lab.site_deploy.LiveSite`'s subject.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from . import capacity
from .deploy import DeployReport, _watched, migrate
from .engines import Database
from .releases import CommandRun, Release
from .site import Shape, Site
from .site_deploy import AFTER, SETTLE, SiteReport, site_capacity
from .site_urls import BUSY, UNTOUCHED
from .story import Story
from .traffic import DROPPED, ERROR, FIVE_XX, TIMEOUT, Load, Request, RunningTraffic, TrafficReport
from .workload import Sample, WorkloadReport

VISITOR_TIMEOUT = 3.0  # seconds before a visitor gives up, as a browser or an upstream client would
SITE_ROLE = "web"  # how the site's processes name themselves to the database (``release_1:web``)


def _error(request: Request, load: Load) -> str | None:
    """How a failed request ended, as a guide's table of errors names it."""
    if request.failure == TIMEOUT:
        return f"timeout: no answer within {load.timeout:g} s"
    if request.failure == FIVE_XX:
        if request.detail:  # the error the site's view met, as in-process clients record it
            return f"HTTP {request.status}: {request.detail}"
        return f"HTTP {request.status}" + (" (nginx's upstream timeout)" if request.status == 504 else "")
    if request.failure == ERROR:
        return f"HTTP {request.status}" if request.status else "connection error"
    if request.failure == DROPPED:
        return f"dropped: {load.cap} requests already in flight"
    return None


def _as_samples(traffic: TrafficReport, kinds: dict[str, str], group: str) -> list[Sample]:
    """The visitors' requests to ``group``'s pages as the in-process workload's samples (read or write)."""
    return [Sample(r.scheduled, r.started, r.ended, kinds[r.name], r.name, _error(r, traffic.load), 0)
            for r in traffic.requests if r.group == group]


@dataclass
class SiteDeployReport(DeployReport):
    """A :class:`~lab.deploy.DeployReport` of a migration run on the real site: ``old`` holds the visitors'
    requests to the pages of the migrated tables as the workload's samples; ``site`` is the run as the site saw it
    (:class:`~lab.site_deploy.SiteReport`): every request, to those pages and to a table the migration leaves alone
    (if the release has such pages)."""

    site: SiteReport | None = None

    def figures(self, table: str) -> dict:
        """:meth:`DeployReport.figures`, with the site's processes as the ones whose lock waits count, and what the
        visitors saw: failures by kind over the migration, the most requests in flight, the untouched pages'
        worst wait, the rate and the capacity it is a fraction of."""
        found = super().figures(table)
        if self.locks and self.locks.observable:
            waits = self.site_waits()
            found["lock_waits"] = len(waits)
            found["longest_lock_wait_ms"] = round(self.longest_site_wait_ms())
            # Sessions, not waits: each of the site's workers has one, so this is how many workers a lock held.
            found["waiting_sessions"] = len({span.who for span in waits})
        visitors = self.site.traffic
        during = visitors.window(None, self.migration.started, self.migration.ended)
        found.update({
            "site": self.site.shape.describe(),
            "traffic": visitors.load.describe(),
            "rate": round(visitors.load.rate),
            "capacity": round(self.site.capacity),
            "timeout_s": visitors.load.timeout,
            "upstream_timeout_s": self.site.shape.upstream_timeout,
            # Every visitor whose request arrived while the migration ran, whichever pages they asked for.
            "visitors": during,
            "timeouts": during["timeout"],
            "failed_5xx": during["5xx"],
            "in_flight_max": during["in_flight_max"],
            "untouched": (visitors.window(UNTOUCHED, self.migration.started, self.migration.ended)
                          if visitors.of(UNTOUCHED) else None),
            # Over the whole run, every group of pages: a request that failed after the migration ended, in the
            # queue it left, failed because of it.
            "failed_requests": sum(1 for r in visitors.requests if r.failure),
            "recovery_ms": round(self.site.recovery_s * 1000),
        })
        return found

    def site_waits(self) -> list:
        """The lock waits of the site's sessions. PostgreSQL's name the release and role (``release_1:web``);
        MariaDB's process list names no one, and :mod:`lab.locks` calls every session but the schema change's
        ``workload``."""
        return self.locks.waits(SITE_ROLE if self.locks.modes_observable else "workload")

    def longest_site_wait_ms(self) -> float:
        """The longest a session of the site was seen waiting for a lock, on any table: what the migration cost the
        site, apart from the queue a loaded machine makes on its own."""
        return self.locks.longest(self.site_waits())

    def summary(self) -> str:
        return f"{super().summary()}\nvisitors at {self.site.traffic.load.rate:.0f}/s: {self.site.traffic.summary()}"


def _operations(address: str) -> dict[str, str]:
    """Each page of the site: its operation's name → read or write."""
    with urllib.request.urlopen(f"{address}/ops", timeout=30) as answer:
        return {name: about["kind"] for name, about in json.loads(answer.read()).items()}


class ServingSite:
    """``old``'s real site, up for several deploys in a row (a guide's steps, each its own deploy): a context manager.
    Visitors who give up after ``timeout`` seconds come only while :meth:`deploy` runs a migration, or :meth:`run`
    another command (a backup, an export)."""

    def __init__(self, database: Database, old: Release, story: Story, *, shape: Shape = Shape(),
                 timeout: float = VISITOR_TIMEOUT):
        self.database, self.old, self.story, self.shape = database, old, story, shape
        self.site = Site(old, database, shape)
        try:
            found = site_capacity(self.site, old, story)
            self.capacity = found.rate
            self.load = Load(found.rate * capacity.FRACTION, timeout=timeout)
            self.kinds = _operations(self.site.address)
        except BaseException:
            self.site.close()
            raise

    def deploy(self, new: Release, tables: list[str], *, before_migration: Callable[[], None] | None = None,
               migrate_with: Callable[[], CommandRun] | None = None) -> SiteDeployReport:
        """Migrate to ``new`` while the site serves, watching locks on ``tables``; says what happened.
        ``before_migration`` runs just before the migration (a transaction it must wait for); ``migrate_with``
        migrates instead of plain ``migrate``."""
        return self._serving(f"Deploying {new.name}", new.name, migrate_with or (lambda: migrate(new, self.database)),
                             tables, before_migration)

    def run(self, what: str, command: Callable[[], CommandRun], tables: list[str]) -> SiteDeployReport:
        """Run ``command`` (described by ``what``: a backup, an export, a fill) while the site serves, watching
        locks on ``tables``; reported as a deploy whose migration is the command and whose new release has no
        requests."""
        return self._serving(what, "(no new release)", command, tables, None)

    def _serving(self, what: str, new_name: str, command: Callable[[], CommandRun], tables: list[str],
                 before: Callable[[], None] | None) -> SiteDeployReport:
        site, old = self.site, self.old
        with self.story.step(f"{what} while {self.shape.describe()} serve {old.name} to visitors: "
                             f"{self.load.describe()}"):
            visitors = RunningTraffic(site.address, self.load)
            try:
                time.sleep(SETTLE)
                if before:
                    before()
                migration, locks = _watched(command, self.database, tables)
                recovery = site.balancer.recovered()
                time.sleep(AFTER)
            finally:
                traffic = visitors.stop()
        report = SiteDeployReport(old=WorkloadReport(old.name, _as_samples(traffic, self.kinds, BUSY)),
                                  new=WorkloadReport(new_name, []), migration=migration, locks=locks,
                                  site=SiteReport(traffic, migration, self.shape, self.capacity, recovery))
        self.story.say(report.summary())
        return report

    def close(self) -> None:
        self.site.close()

    def __enter__(self) -> ServingSite:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def deploy_on_site(database: Database, old: Release, new: Release, story: Story, tables: list[str], *,
                   before_migration: Callable[[], None] | None = None,
                   migrate_with: Callable[[], CommandRun] | None = None, shape: Shape = Shape(),
                   timeout: float = VISITOR_TIMEOUT) -> SiteDeployReport:
    """One deploy on :class:`ServingSite`: migrate to ``new`` while ``old``'s real site serves visitors who give up
    after ``timeout`` seconds, watching locks on ``tables``; says what happened. ``before_migration`` runs just before
    the migration (a transaction it must wait for); ``migrate_with`` migrates instead of plain ``migrate``."""
    with ServingSite(database, old, story, shape=shape, timeout=timeout) as site:
        return site.deploy(new, tables, before_migration=before_migration, migrate_with=migrate_with)
