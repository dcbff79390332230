"""Watch, from a connection of its own, which locks a migration takes and who waits.

PostgreSQL: ``pg_locks`` joined with ``pg_stat_activity``, for the tables
named. Each process of a release names itself in ``application_name``
(``release_2:migrate``, ``release_1:workload``). MariaDB/MySQL: the process
list of the database, where a session waiting for a metadata lock says so in
its state; the session running a schema change is the migration (named
``migrate session N``), the others are the workload (``workload session N``).
MariaDB shows no lock modes there, so its spans carry the session's thread state,
which is not a lock: :mod:`lab.trace` reads MariaDB's metadata-lock modes.
SQLite has no lock view; there the workload's waits are the evidence.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from .engines import Database

POSTGRES_LOCKS = """
SELECT a.application_name, l.pid, c.relname, l.mode, l.granted
FROM pg_locks l
JOIN pg_class c ON c.oid = l.relation
JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'relation' AND c.relname = ANY(%s) AND l.pid <> pg_backend_pid()
"""
MARIADB_SESSIONS = """
SELECT ID, COALESCE(STATE, ''), COALESCE(INFO, '')
FROM information_schema.PROCESSLIST
WHERE DB = %s AND ID <> CONNECTION_ID() AND COMMAND <> 'Sleep'
"""
LOCK_VIEWS = ("postgresql", "mysql")
# pg_locks names modes after the server's C constants; SQL and the documentation use these names.
SQL_LOCK_NAMES = {
    "AccessShareLock": "ACCESS SHARE",
    "RowShareLock": "ROW SHARE",
    "RowExclusiveLock": "ROW EXCLUSIVE",
    "ShareUpdateExclusiveLock": "SHARE UPDATE EXCLUSIVE",
    "ShareLock": "SHARE",
    "ShareRowExclusiveLock": "SHARE ROW EXCLUSIVE",
    "ExclusiveLock": "EXCLUSIVE",
    "AccessExclusiveLock": "ACCESS EXCLUSIVE",
}


def sql_lock_name(mode: str) -> str:
    """SQL's name of a PostgreSQL lock mode (``ShareLock`` -> ``SHARE``); other names unchanged."""
    return SQL_LOCK_NAMES.get(mode, mode)


# PostgreSQL's lock modes, weakest first: pg_locks' name, then SQL's.
PG_MODES = SQL_LOCK_NAMES
_AS, _RS, _RX, _SUX, _S, _SRX, _X, _AX = PG_MODES.values()
# PostgreSQL's documentation, "Table-Level Lock Modes" (table "Conflicting Lock Modes"): what each mode conflicts with.
CONFLICTS = {
    _AS: {_AX},
    _RS: {_X, _AX},
    _RX: {_S, _SRX, _X, _AX},
    _SUX: {_SUX, _S, _SRX, _X, _AX},
    _S: {_RX, _SUX, _SRX, _X, _AX},
    _SRX: {_RX, _SUX, _S, _SRX, _X, _AX},
    _X: {_RS, _RX, _SUX, _S, _SRX, _X, _AX},
    _AX: set(PG_MODES.values()),
}
# MariaDB's metadata lock modes, in the order of its enum (sql/mdl.cc), roughly weakest first.
MDL_MODES = [
    "MDL_INTENTION_EXCLUSIVE", "MDL_SHARED", "MDL_SHARED_HIGH_PRIO", "MDL_SHARED_READ", "MDL_SHARED_WRITE",
    "MDL_SHARED_UPGRADABLE", "MDL_SHARED_READ_ONLY", "MDL_SHARED_NO_WRITE", "MDL_SHARED_NO_READ_WRITE", "MDL_EXCLUSIVE",
]
# From its compatibility matrix (MDL_object_lock::m_granted_incompatible): the held modes that a reader's
# MDL_SHARED_READ, and a writer's MDL_SHARED_WRITE, must wait for.
MDL_READS_WAIT_FOR = {"MDL_SHARED_NO_READ_WRITE", "MDL_EXCLUSIVE"}
MDL_WRITES_WAIT_FOR = {"MDL_SHARED_READ_ONLY", "MDL_SHARED_NO_WRITE", "MDL_SHARED_NO_READ_WRITE", "MDL_EXCLUSIVE"}
# Per mode: whether it blocks reads (PostgreSQL: conflicts with ACCESS SHARE, which SELECT takes) and writes
# (conflicts with ROW EXCLUSIVE, which INSERT, UPDATE and DELETE take); likewise for MariaDB's modes.
BLOCKS = {
    **{mode: {"reads": _AS in conflicts, "writes": _RX in conflicts} for mode, conflicts in CONFLICTS.items()},
    **{mode: {"reads": mode in MDL_READS_WAIT_FOR, "writes": mode in MDL_WRITES_WAIT_FOR} for mode in MDL_MODES},
}
RANK = {mode: rank for modes in (list(PG_MODES.values()), MDL_MODES) for rank, mode in enumerate(modes)}

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
            cursor.execute(POSTGRES_LOCKS, (self.tables,))
            # One span per backend: several clients of a release share its application_name.
            return [(f"{app or 'backend'} (pid {pid})", table, sql_lock_name(mode), granted)
                    for app, pid, table, mode, granted in cursor]
        cursor.execute(MARIADB_SESSIONS, (self.database.name,))
        rows = []
        for session, state, info in cursor.fetchall():
            table = next((t for t in self.tables if t in info), "")
            waiting = "waiting for" in state.lower() and "lock" in state.lower()
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
