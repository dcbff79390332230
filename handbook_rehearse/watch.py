"""What a migration does to the database while it runs: its statements, timed, and the table locks it holds.

Two instruments, both on the real migration as ``migrate`` runs it:

* every statement goes through :class:`Statements` (a Django execute wrapper on the migrating connection), which
  times it; on PostgreSQL, in an atomic migration, it then reads that backend's own rows of ``pg_locks``. Locks
  are held to the end of the transaction, so this sees every lock however short the statement (exact);
* :class:`LockWatcher`, on a connection of its own, polls the migrating backend's locks, pausing a millisecond
  between two looks:
  ``pg_locks`` on PostgreSQL, ``information_schema.METADATA_LOCK_INFO`` on MariaDB (its ``metadata_lock_info``
  plugin; without it, no modes are seen, and waits still are). It sees locks outside transactions (concurrent
  index builds, MariaDB's DDL) and a lock the migration waits for (not granted).

A lock is held from when it was first seen granted (or the end of the statement that took it) to when it was
last seen, or, for a lock seen inside an atomic migration's transaction, to the migration's end, when it commits.
Between two looks a lock can come and go unseen: a hold is a lower bound, and one seen in a single look is
reported as held briefly.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field

from django.db import connections

from . import lockreads
from .lockmodes import blocks_reads, blocks_writes

POLL_EVERY = 0.001
# Django's own queries around a migration: reading the catalog, recording the migration as applied.
BOOKKEEPING = re.compile(r"django_migrations|\bpg_catalog\.|\binformation_schema\.|^\s*SHOW\s", re.IGNORECASE)
# Not part of what a migration does to the site's tables.
NOT_WATCHED = {"django_migrations"}


def _watched(lock: lockreads.SeenLock) -> bool:
    """A granted lock on one of the site's tables (an index being built is locked by its builder alone)."""
    return lock.granted and lock.is_table and lock.relation not in NOT_WATCHED


@dataclass
class Statement:
    """One statement the migration ran: its SQL, when it started and ended (perf_counter seconds), its error."""

    sql: str
    started: float
    ended: float
    error: str = ""

    @property
    def seconds(self) -> float:
        return self.ended - self.started


@dataclass
class HeldLock:
    """A lock mode on a table, and when the migration held it."""

    table: str
    mode: str
    first: float
    last: float
    until_commit: bool = False  # seen inside the migration's transaction: held until it commits

    @property
    def seconds(self) -> float:
        return self.last - self.first

    @property
    def blocks_writes(self) -> bool:
        return blocks_writes(self.mode)

    @property
    def blocks_reads(self) -> bool:
        return blocks_reads(self.mode)


@dataclass
class LockWait:
    """A lock the migration asked for and waited on: what it was, from when to when."""

    what: str
    first: float
    last: float

    @property
    def seconds(self) -> float:
        return self.last - self.first


@dataclass
class Observation:
    """Everything seen of one migration. A lock seen, gone, then seen again counts as two holds."""

    statements: list[Statement] = field(default_factory=list)
    locks: list[HeldLock] = field(default_factory=list)
    waits: list[LockWait] = field(default_factory=list)
    lock_modes_visible: bool = True
    _open: dict[tuple[str, str], HeldLock] = field(default_factory=dict)
    # The poller's thread and the migration's both record locks.
    _mutex: threading.Lock = field(default_factory=threading.Lock)

    def saw(self, table: str, mode: str, when: float, *, until_commit: bool = False) -> None:
        with self._mutex:
            self._saw(table, mode, when, until_commit)

    def _saw(self, table: str, mode: str, when: float, until_commit: bool) -> None:
        held = self._open.get((table, mode))
        if held is None:
            held = self._open[(table, mode)] = HeldLock(table, mode, when, when, until_commit)
            self.locks.append(held)
        held.first, held.last = min(held.first, when), max(held.last, when)
        held.until_commit |= until_commit

    def polled(self, seen: set[tuple[str, str]], when: float) -> None:
        """One look at the locks held: each seen goes on, each not seen has ended."""
        with self._mutex:
            for table, mode in seen:
                self._saw(table, mode, when, False)
            for key in [key for key in self._open if key not in seen]:
                del self._open[key]

    def waited(self, what: str, when: float) -> None:
        if self.waits and self.waits[-1].what == what and when - self.waits[-1].last < 0.05:
            self.waits[-1].last = when
        else:
            self.waits.append(LockWait(what, when, when))

    def committed(self, when: float) -> None:
        """The migration ended: what its transaction held, it held until now."""
        for held in self.locks:
            if held.until_commit:
                held.last = max(held.last, when)

    def during(self, first: float, last: float) -> list[Statement]:
        """The statements that ran at some point between ``first`` and ``last``."""
        return [s for s in self.statements if s.started <= last and s.ended >= first]


class Statements:
    """An execute wrapper for the migrating connection: times each statement, and on PostgreSQL inside a
    transaction reads the locks the transaction holds right after it."""

    def __init__(self, connection, observation: Observation, atomic: bool):
        # Only a migration that runs in one transaction holds its locks to its end; a non-atomic one's own
        # atomic() blocks commit earlier, and the poller sees those.
        self.connection, self.observation, self.atomic = connection, observation, atomic

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        error = ""
        try:
            return execute(sql, params, many, context)
        except Exception as exception:
            error = f"{type(exception).__name__}: {str(exception).strip().splitlines()[0] if str(exception) else ''}"
            raise
        finally:
            ended = time.perf_counter()
            if not BOOKKEEPING.search(str(sql)):
                self.observation.statements.append(Statement(str(sql).strip(), started, ended, error))
            if not error and self.atomic and self.connection.vendor == "postgresql" and self.connection.in_atomic_block:
                # The raw connection's cursor: this query is the instrument's, not the migration's.
                with self.connection.connection.cursor() as cursor:
                    for lock in filter(_watched, lockreads.pg_own_locks(cursor)):
                        self.observation.saw(lock.relation, lock.mode, ended, until_commit=True)


class LockWatcher:
    """Polls the locks of the backend ``session`` (a PostgreSQL pid or a MariaDB connection id) until stopped."""

    def __init__(self, alias: str, vendor: str, session: int, observation: Observation):
        self.alias, self.vendor, self.session, self.observation = alias, vendor, session, observation
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.error: BaseException | None = None

    def __enter__(self) -> LockWatcher:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        connection = connections[self.alias]
        try:
            with connection.cursor() as cursor:
                poll = self._poller(cursor)
                self._ready.set()
                while not self._stop.is_set():
                    poll()
                    time.sleep(POLL_EVERY)
                poll()
        except BaseException as error:  # reported by the command, never lost in the thread
            self.error = error
        finally:
            self._ready.set()
            connection.close()

    def _poller(self, cursor):
        observation, session = self.observation, self.session
        if self.vendor == "postgresql":
            def look() -> lockreads.SessionLocks:
                return lockreads.pg_session(cursor, session)
        else:
            observation.lock_modes_visible = lockreads.metadata_lock_view(cursor) is None

            def look() -> lockreads.SessionLocks:
                return lockreads.mariadb_session(cursor, session, modes=observation.lock_modes_visible)

        def poll() -> None:
            seen = look()
            now = time.perf_counter()
            for lock in seen.locks:
                if not lock.granted:
                    observation.waited(f"{lock.mode} on {lock.relation or lock.locktype}", now)
            if seen.waiting and self.vendor != "postgresql":
                observation.waited(seen.state, now)  # MariaDB names the wait in the thread's state only
            observation.polled({(lock.relation, lock.mode) for lock in seen.locks if _watched(lock)}, now)
        return poll


def session_id(connection) -> int:
    """The migrating connection's backend: its pid on PostgreSQL, its connection id on MariaDB."""
    with connection.cursor() as cursor:
        return lockreads.session_id(cursor, connection.vendor)
