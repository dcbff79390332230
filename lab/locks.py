"""Watch, from a connection of its own, which locks a migration takes and who waits.

PostgreSQL: every backend's locks on the tables named (``pg_locks``). Each process of a release names itself in
``application_name`` (``release_2:migrate``, ``release_1:workload``). MariaDB: the process list of the database,
where a session waiting for a metadata lock says so in its state; the session running a schema change is the
migration (named ``migrate session N``), the others are the workload (``workload session N``). MariaDB shows no lock
modes there, so its spans carry the session's thread state, which is not a lock: the lock trace
(:mod:`handbook_rehearse.trace`) reads MariaDB's metadata-lock modes. SQLite has no lock view; there the
workload's waits are the evidence.

The queries, and the modes' names and conflicts, are those of the instrument ``manage.py rehearse`` ships
(:mod:`handbook_rehearse.lockreads`, :mod:`handbook_rehearse.lockmodes`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from handbook_rehearse import lockreads

from .engines import Database

LOCK_VIEWS = ("postgresql", "mysql")

SCHEMA_CHANGES = ("ALTER", "CREATE", "DROP", "RENAME", "TRUNCATE", "OPTIMIZE")


@dataclass
class LockSpan:
    """A lock (or a wait for one) seen continuously from ``first`` to ``last`` (wall-clock seconds)."""

    who: str
    table: str
    mode: str
    granted: bool
    first: float
    last: float

    @property
    def ms(self) -> float:
        return (self.last - self.first) * 1000

    def __str__(self) -> str:
        held = "held" if self.granted else "WAITED FOR"
        return f"{self.who} {held} {self.mode} on {self.table} for {self.ms:.0f} ms"


@dataclass
class LockReport:
    """Every lock span seen while watching; ``observable`` is False where the engine has no lock view."""

    spans: list[LockSpan]
    polls: int
    observable: bool = True
    # PostgreSQL's view names lock modes; MariaDB's process list only shows thread states, which are not locks.
    modes_observable: bool = True

    def held(self, who: str, table: str | None = None) -> list[LockSpan]:
        """Granted locks of a process whose name contains ``who``."""
        return [s for s in self.spans if s.granted and who in s.who and (table is None or s.table == table)]

    def waits(self, who: str = "", table: str | None = None) -> list[LockSpan]:
        """Waits of processes whose name contains ``who``."""
        return [s for s in self.spans if not s.granted and who in s.who and (table is None or s.table == table)]

    def modes(self, who: str, table: str) -> set[str]:
        return {s.mode for s in self.held(who, table)}

    def longest(self, spans: list[LockSpan]) -> float:
        return max((s.ms for s in spans), default=0.0)

    def summary(self) -> str:
        """One line per role (all its backends), table, mode and state: how often seen and the longest."""
        groups: dict[tuple, list[LockSpan]] = {}
        for span in self.spans:
            role = span.who.split(" (pid ")[0]
            groups.setdefault((role, span.table, span.mode, span.granted), []).append(span)
        lines = []
        for (who, table, mode, granted), spans in sorted(groups.items(), key=lambda item: -self.longest(item[1])):
            held = "held" if granted else "WAITED FOR"
            times = f"{len(spans)} times, longest" if len(spans) > 1 else "for"
            lines.append(f"{who} {held} {mode} on {table or 'the table'} {times} {self.longest(spans):.0f} ms")
        return "\n".join(lines) or "no locks seen"


class LockObserver:
    """Polls the lock view in a thread until :meth:`stop`; a context manager."""

    def __init__(self, database: Database, tables: list[str], *, every: float = 0.002):
        self.database = database
        self.tables = tables
        self.every = every
        self._open: dict[tuple, LockSpan] = {}
        self._closed: list[LockSpan] = []
        self._polls = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._error: BaseException | None = None

    def __enter__(self) -> LockObserver:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.report = self.stop()

    def stop(self) -> LockReport:
        """Stop watching and report every span seen."""
        self._stop.set()
        self._thread.join(timeout=10)
        if self._error:
            raise self._error
        spans = sorted(self._closed + list(self._open.values()), key=lambda s: s.first)
        vendor = self.database.engine.vendor
        return LockReport(spans, self._polls, observable=vendor in LOCK_VIEWS, modes_observable=vendor == "postgresql")

    def _rows(self, cursor) -> list[tuple[str, str, str, bool]]:
        if self.database.engine.vendor == "postgresql":
            # One span per backend: several clients of a release share its application_name.
            return [(f"{app or 'backend'} (pid {pid})", lock.relation, lock.mode, lock.granted)
                    for app, pid, lock in lockreads.pg_locks_on_tables(cursor, self.tables)]
        rows = []
        for session, state, info in lockreads.mariadb_busy_sessions(cursor, self.database.name):
            table = next((t for t in self.tables if t in info), "")
            waiting = lockreads.waits_for_lock(state)
            schema_change = info.lstrip().upper().startswith(SCHEMA_CHANGES)
            if not (waiting or schema_change):
                continue  # ordinary queries at work: their passing states say nothing about locks
            role = "migrate" if schema_change else "workload"
            statement = " ".join(info.split())[:60]
            rows.append((f"{role} session {session}: {statement}", table, state or "running", not waiting))
        return rows

    def _watch(self) -> None:
        if self.database.engine.vendor not in LOCK_VIEWS:
            return
        try:
            with self.database.connect() as connection:
                cursor = connection.cursor()
                while not self._stop.is_set():
                    now = time.time()
                    seen = set()
                    for who, table, mode, granted in self._rows(cursor):
                        key = (who, table, mode, granted)
                        seen.add(key)
                        span = self._open.get(key)
                        if span is None:
                            self._open[key] = LockSpan(who, table, mode, granted, now, now)
                        else:
                            span.last = now
                    for key in [k for k in self._open if k not in seen]:
                        self._closed.append(self._open.pop(key))
                    self._polls += 1
                    time.sleep(self.every)
        except BaseException as error:  # reported by stop(), in the test's thread
            self._error = error
