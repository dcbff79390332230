"""The budget a rehearsal is judged against, and what broke it.

Three rules, each a way a site suffers during a deploy:

* **lock**: no lock that blocks writes is held longer than ``max_lock`` seconds;
* **wait**: no request waits longer than ``max_wait`` seconds while a migration runs (row locks, a migration
  queued for its lock, a saturated server: whatever the cause);
* **failure**: no request fails, neither from the code that serves while the migrations run, nor from the code
  they ship with once they are applied; and the migration itself succeeds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import pages
from .lockmodes import RANK
from .plan import Step
from .watch import HeldLock, Observation, Statement
from .workload import NEXT, SERVING, Request


# The errors of a request that could not get a lock: PostgreSQL's deadlock_detected, lock_not_available and
# serialization_failure messages, MariaDB's 1213 and 1205.
LOCK_ERROR = re.compile(r"deadlock|lock wait timeout|lock timeout|could not obtain lock|could not serialize",
                        re.IGNORECASE)


@dataclass(frozen=True)
class Budget:
    """What a rehearsal may cost the site, in seconds."""

    max_lock: float = 1.0
    max_wait: float = 1.0


@dataclass(frozen=True)
class Finding:
    """One broken rule: which, what happened, and the page with the recipe."""

    rule: str
    message: str
    page: pages.Page

    def to_json(self, root: str) -> dict:
        return {"rule": self.rule, "message": self.message, "page": self.page.path, "title": self.page.title,
                "url": self.page.url(root)}


@dataclass
class Rehearsed:
    """One migration as rehearsed: what it ran, what it held, what requests met meanwhile."""

    step: Step
    observation: Observation
    started: float
    ended: float
    error: str = ""
    requests: list[Request] = field(default_factory=list)  # the requests due while it, or its aftermath, ran

    in_transaction: bool = False  # whether the migration ran in one transaction (atomic, on PostgreSQL)

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    def strongest(self) -> list[HeldLock]:
        """Per table, the strongest mode held, with how long."""
        best: dict[str, HeldLock] = {}
        for held in self.observation.locks:
            current = best.get(held.table)
            if current is None or (RANK.get(held.mode, -1), held.seconds) > (RANK.get(current.mode, -1),
                                                                             current.seconds):
                best[held.table] = held
        return sorted(best.values(), key=lambda held: held.table)

    def overlapping(self) -> list[Request]:
        """The requests that were waiting or running at some point while the migration ran."""
        return [r for r in self.requests if r.ended >= self.started and r.due <= self.ended]

    def worst_wait(self, kinds: tuple[str, ...]) -> Request | None:
        candidates = [r for r in self.overlapping() if r.kind in kinds and not r.error]
        return max(candidates, key=lambda r: r.wait, default=None)

    def failures(self, code: str) -> list[Request]:
        return [r for r in self.requests if r.error and r.code == code]


def judge(rehearsed: Rehearsed, budget: Budget) -> list[Finding]:
    """Every rule ``rehearsed`` broke, each with the page that explains it."""
    findings = []
    if rehearsed.error:
        findings.append(Finding("failure", f"the migration failed: {rehearsed.error}",
                                pages.for_operations(rehearsed.step.migration.operations)))
    if not rehearsed.observation.lock_modes_visible:
        findings.append(Finding(
            "lock", "lock modes could not be seen (MariaDB's metadata_lock_info plugin is not installed), so the "
                    "lock rule could not be judged", pages.REHEARSE))
    for held in _longest_per_mode(rehearsed.observation.locks):
        if held.blocks_writes and held.seconds > budget.max_lock:
            during = rehearsed.observation.during(held.first, held.last)
            blocks = "reads and writes" if held.blocks_reads else "writes"
            findings.append(Finding(
                "lock", f"{held.mode} on {held.table} blocked {blocks} for {held.seconds * 1000:,.0f} ms "
                        f"(budget {budget.max_lock * 1000:,.0f} ms){_by(_longest(during))}", _page(during)))
    for kinds, what in ((("read",), "a read"), (("update", "insert"), "a write")):
        worst = rehearsed.worst_wait(kinds)
        if worst is not None and worst.wait > budget.max_wait:
            # In one transaction, every statement before keeps its locks to the end: each is a suspect.
            since = rehearsed.started if rehearsed.in_transaction else worst.due
            during = rehearsed.observation.during(since, worst.ended)
            queued = _queued(rehearsed, worst.due, worst.ended)
            if queued and queued[0] > budget.max_wait / 2:
                # The migration itself waited for a lock meanwhile, and the request queued behind it: a lock
                # timeout is the fix, whatever the statement.
                cause, page = f"; the migration itself waited {queued[0] * 1000:,.0f} ms for {queued[1]}", \
                    pages.LOCK_TIMEOUT
            else:
                cause, page = _by(_longest(during)), _page(during)
            findings.append(Finding(
                "wait", f"{what} of {worst.model} waited {worst.wait * 1000:,.0f} ms "
                        f"(budget {budget.max_wait * 1000:,.0f} ms){cause}", page))
    for code, whose in ((SERVING, "the code that serves during the deploy"), (NEXT, "the code these migrations "
                                                                                   "ship with")):
        failed = rehearsed.failures(code)
        on_locks = [r for r in failed if LOCK_ERROR.search(r.error)]
        others = [r for r in failed if r not in on_locks]
        if on_locks:
            # Not the schema: a lock the request could not get (a deadlock, a timeout) while the migration ran.
            first = on_locks[0]
            page = _page(rehearsed.observation.during(first.due, first.ended))
            findings.append(Finding(
                "failure", f"{len(on_locks):,} requests of {whose} failed on a lock, first a {first.kind} of "
                           f"{first.model}: {first.error}", pages.LOCK_TIMEOUT if page is pages.LOCKS else page))
        if others:
            first = others[0]
            findings.append(Finding(
                "failure", f"{len(others):,} requests of {whose} failed, first a {first.kind} of {first.model}: "
                           f"{first.error}", pages.for_operations(rehearsed.step.migration.operations)))
    return findings


def _longest_per_mode(locks: list[HeldLock]) -> list[HeldLock]:
    """Every mode held on every table, each by its longest hold: a long SHARE before a brief ACCESS EXCLUSIVE is
    judged too, not only the strongest mode."""
    longest: dict[tuple[str, str], HeldLock] = {}
    for held in locks:
        current = longest.get((held.table, held.mode))
        if current is None or held.seconds > current.seconds:
            longest[(held.table, held.mode)] = held
    return sorted(longest.values(), key=lambda held: (held.table, -RANK.get(held.mode, -1)))


def _queued(rehearsed: Rehearsed, first: float, last: float) -> tuple[float, str] | None:
    """How long, between ``first`` and ``last``, the migration waited for a lock, and for which; None if not."""
    spans = [(min(w.last, last) - max(w.first, first), w.what) for w in rehearsed.observation.waits]
    spans = [(seconds, what) for seconds, what in spans if seconds > 0]
    return max(spans, default=None)


def _longest(statements: list[Statement]) -> Statement | None:
    return max(statements, key=lambda s: s.seconds, default=None)


def _by(statement: Statement | None) -> str:
    if statement is None:
        return ""
    sql = " ".join(statement.sql.split())
    return f", by {sql[:100]}{'…' if len(sql) > 100 else ''} ({statement.seconds * 1000:,.0f} ms)"


def _page(statements: list[Statement]) -> pages.Page:
    return pages.for_statements([s.sql for s in statements])
