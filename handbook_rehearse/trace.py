"""Which locks each statement of a migration takes: an exact trace, statement by statement (the method of
``eugene trace``).

Given a migration's statements (as ``sqlmigrate`` collects them) and connections to a database in the state just
before it, :func:`trace_statements` runs them and reads the locks (:mod:`.lockreads`):

* **PostgreSQL**, ``exact, after the statement``: each statement runs in a transaction on a connection of its own;
  right after it, that backend's rows of ``pg_locks`` are read. Locks are held to the end of the transaction, so
  nothing is missed, however short the statement. An atomic migration runs in one transaction, as Django runs it:
  each row lists the locks new since the previous statement (a mode the transaction already holds is not listed
  again, as ``pg_locks`` shows each mode once) and ``held``, everything held after it. A non-atomic migration runs
  each statement in a transaction of its own, as Django does, so each row is that statement's locks alone.
* PostgreSQL, ``observed while running``: a statement that cannot run in a transaction (``CREATE INDEX
  CONCURRENTLY``...) runs alone while a second connection polls ``pg_locks`` for its backend every millisecond.
* **MariaDB**, ``observed while running``: DDL commits as it ends, so its metadata locks can only be seen while it
  runs, in ``information_schema.METADATA_LOCK_INFO`` (the ``metadata_lock_info`` plugin, installed if asked and
  allowed), polled every millisecond with the session's state in ``PROCESSLIST``. States are not locks: they are
  kept apart, in ``states``.
* **SQLite** has no lock modes; its rows say what it does instead.

To make brief locks visible, an observed statement is held up: first a transaction on a third connection reads
the tables the statement names (and, on PostgreSQL, holds a snapshot). Where the statement needs a mode readers
conflict with (or, building an index concurrently, waits for older snapshots), it waits for that transaction,
holding what it already has; seen waiting, the transaction ends and polling goes on to the end. The time waited is
taken off the statement's time. Each row's ``method`` says how its locks were seen.

The trace is a measurement. An atomic migration's transaction is rolled back unless ``commit``; where the
migration itself commits (non-atomic migrations, concurrent builds, MariaDB's DDL), the trace commits as ``migrate``
would, without recording the migration: trace on a throwaway database.

``connect`` is any callable that opens a DB-API connection in autocommit mode which closes as it leaves a ``with``
block (psycopg's and PyMySQL's do; wrap a ``sqlite3`` one, opened with ``isolation_level=None``, in
``contextlib.closing``).
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from . import lockreads
from .lockmodes import RANK, blocks_reads, blocks_writes, strongest_first

EXACT = "exact, after the statement"
OBSERVED = "observed while running"
NOT_SQL = "not traced: the operation runs Python code, not SQL"
# A schema change is a write transaction, and SQLite locks only whole database files
# (https://www.sqlite.org/lockingv3.html).
SQLITE = "SQLite locks the whole database file for writing during any schema change"
PYTHON_OPERATION = "-- THIS OPERATION CANNOT BE WRITTEN AS SQL"  # what sqlmigrate writes for RunPython
POLL_EVERY = 0.001  # seconds between two looks at a running statement
# Right after a held-up statement goes on, it takes what it waited for, often briefly: look without pausing.
BURST = 0.1  # seconds
PATIENCE = 30.0  # seconds an observed statement may run before the transaction holding it up ends anyway

# PostgreSQL refuses these inside a transaction block.
NOT_IN_TRANSACTION = re.compile(
    r"^\s*(CREATE\s+(UNIQUE\s+)?INDEX\s+CONCURRENTLY|DROP\s+INDEX\s+CONCURRENTLY|REINDEX\b.*\bCONCURRENTLY"
    r"|ALTER\s+TABLE\b.*\bDETACH\s+PARTITION\b.*\bCONCURRENTLY)",
    re.IGNORECASE | re.DOTALL,
)
# The tables among these names, an index standing for its table.
PG_TABLES = """
SELECT DISTINCT COALESCE(i.indrelid, c.oid)::regclass::text FROM pg_class c
LEFT JOIN pg_index i ON i.indexrelid = c.oid
WHERE c.relname = ANY(%s) AND c.relkind IN ('r', 'p', 'm', 'i', 'I') AND c.relnamespace NOT IN """ + lockreads.CATALOGS

Connect = Callable[[], object]


@dataclass(frozen=True)
class TracedLock:
    """A table-level lock: the relation, the mode (SQL's name on PostgreSQL, ``MDL_*`` on MariaDB), granted or not."""

    relation: str
    mode: str
    granted: bool = True


@dataclass
class TracedStatement:
    """One statement: how long it ran, the locks it took, the session states seen, and how they were seen.

    ``held`` is, inside a transaction on PostgreSQL, every lock the transaction holds after the statement.
    """

    sql: str
    ms: float
    locks: list[TracedLock]
    states: list[str]
    method: str
    held: list[TracedLock] = field(default_factory=list)

    def modes_on(self, relation: str) -> list[str]:
        """The modes this statement took on ``relation``, strongest first."""
        return modes_on(self.locks, relation)


@dataclass
class MigrationTrace:
    """Every statement of a migration on one engine, with its locks."""

    engine_label: str
    statements: list[TracedStatement]
    migration: str = ""
    # False when each statement ran alone (a non-atomic migration): a lock then lasts for its statement only.
    atomic: bool = True

    def modes_on(self, relation: str) -> list[str]:
        """The modes any statement took on ``relation``, strongest first."""
        return modes_on([lock for s in self.statements for lock in s.locks], relation)

    def blocks_reads(self, relation: str) -> bool:
        """Whether some statement takes a mode on ``relation`` that reads must wait for."""
        return any(blocks_reads(mode) for mode in self.modes_on(relation))

    def blocks_writes(self, relation: str) -> bool:
        """Whether some statement takes a mode on ``relation`` that writes must wait for."""
        return any(blocks_writes(mode) for mode in self.modes_on(relation))

    def to_json(self) -> dict:
        """The trace as JSON-ready data."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> MigrationTrace:
        """The trace :meth:`to_json` gave."""
        def statement(row: dict) -> TracedStatement:
            locks = {key: [TracedLock(**lock) for lock in row[key]] for key in ("locks", "held")}
            return TracedStatement(**{**row, **locks})

        return cls(data["engine_label"], [statement(row) for row in data["statements"]], data.get("migration", ""),
                   data.get("atomic", True))


def modes_on(locks: list[TracedLock], relation: str) -> list[str]:
    """The modes granted on ``relation`` among ``locks``, strongest first."""
    return strongest_first(lock.mode for lock in locks if lock.relation == relation and lock.granted)


def _sorted(locks) -> list[TracedLock]:
    return sorted(set(locks), key=lambda lock: (lock.relation, -RANK.get(lock.mode, -1), not lock.granted))


def trace_statements(connect: Connect, vendor: str, statements: list[str], *, atomic: bool = True,
                     migration: str = "", commit: bool = False, label: str = "",
                     install_plugin: bool = False) -> MigrationTrace:
    """Trace statements as a migration runs them: all in one transaction if ``atomic``, else each alone.
    That one transaction is rolled back, unless ``commit``. ``vendor`` is Django's (``postgresql``, ``mysql``,
    ``sqlite``); ``label`` names the engine in the trace; ``install_plugin`` lets the trace install MariaDB's
    ``metadata_lock_info`` plugin, a change to the server, where it is missing."""
    sql = [statement for statement in statements if statement != PYTHON_OPERATION]
    if vendor == "mysql":
        traced = iter(_trace_mariadb(connect, sql, install_plugin))
    else:
        traced = iter(_trace_in_transactions(connect, vendor, sql, atomic, commit))
    rows = [TracedStatement(s, 0.0, [], [], NOT_SQL) if s == PYTHON_OPERATION else next(traced) for s in statements]
    return MigrationTrace(label or vendor, rows, migration, atomic)


def _identifiers(sql: str) -> list[str]:
    """Every word and quoted name in a statement: the candidates for the tables it names."""
    return sorted({quoted or bare for quoted, bare in re.findall(r'[`"]([^`"]+)[`"]|(\w+)', sql)})


# PostgreSQL and SQLite: transactions, as the migration has them.

def _trace_in_transactions(connect: Connect, vendor: str, statements: list[str], atomic: bool,
                           commit: bool = False) -> list[TracedStatement]:
    postgresql = vendor == "postgresql"
    rows, names, before, in_transaction = [], {}, set(), False
    with connect() as connection:
        if vendor == "sqlite":
            # Django's SQL for SQLite calls functions Django defines on its connections: Random() is RAND().
            from django.db.backends.sqlite3._functions import register

            register(connection)
        cursor = connection.cursor()
        pid = lockreads.session_id(cursor, vendor) if postgresql else None
        for sql in statements:
            if postgresql and NOT_IN_TRANSACTION.search(sql):
                if in_transaction:
                    cursor.execute("COMMIT")  # the statement refuses to run in a transaction: end the open one
                    in_transaction = False
                rows.append(_pg_observe(connect, cursor, pid, sql, names))
                continue
            if not in_transaction:
                cursor.execute("BEGIN")
                in_transaction, before = True, set()
            if postgresql:
                names.update(lockreads.pg_names(cursor))  # to name relations the statement drops
            started = time.perf_counter()
            cursor.execute(sql)
            ms = round((time.perf_counter() - started) * 1000, 2)
            if postgresql:
                held = _sorted(_named(names, lock) for lock in lockreads.pg_own_locks(cursor))
                rows.append(TracedStatement(sql, ms, [lock for lock in held if lock not in before], [], EXACT, held))
                before = set(held)
            else:
                rows.append(TracedStatement(sql, ms, [], [], SQLITE))
            if not atomic:
                cursor.execute("COMMIT")
                in_transaction = False
        if in_transaction:
            # A measurement leaves the database as it was, unless the migration is to stay applied.
            cursor.execute("COMMIT" if commit else "ROLLBACK")
    return rows


def _named(names: dict[int, str], lock: lockreads.SeenLock) -> TracedLock:
    """A lock, named even where the relation is gone (or, to another session, not there yet)."""
    if lock.oid is not None and lock.relation != str(lock.oid):
        names[lock.oid] = lock.relation
    return TracedLock(names.get(lock.oid, lock.relation), lock.mode, lock.granted)


def _pg_observe(connect: Connect, traced, pid: int, sql: str, names: dict[int, str]) -> TracedStatement:
    """Run a statement outside any transaction with the cursor ``traced`` (of backend ``pid``) while another
    connection polls its locks."""
    with connect() as watcher:
        look = watcher.cursor()
        names.update(lockreads.pg_names(look))
        look.execute(PG_TABLES, (_identifiers(sql),))
        tables = [name for (name,) in look.fetchall()]

        def poll():
            seen = lockreads.pg_session(look, pid)
            locks = [_named(names, lock) for lock in seen.locks if lock.locktype == "relation"]
            return locks, seen.state, seen.waiting

        with _reader(connect, tables, snapshot=True) as reader:
            row = _observe(sql, lambda: traced.execute(sql), poll, reader, tables)
        names.update(lockreads.pg_names(look))  # what the statement created is committed now, so it has a name
    row.locks = _sorted(
        TracedLock(names.get(int(lock.relation), lock.relation) if lock.relation.isdigit() else lock.relation,
                   lock.mode, lock.granted)
        for lock in row.locks
    )
    return row


# MariaDB: metadata locks, seen while the statement runs.

def _trace_mariadb(connect: Connect, statements: list[str], install_plugin: bool) -> list[TracedStatement]:
    """Each statement observed while it runs (atomic or not: MariaDB commits DDL as it ends)."""
    rows = []
    with connect() as traced, connect() as watcher:
        look = watcher.cursor()
        missing = lockreads.metadata_lock_view(look, install=install_plugin)
        cursor = traced.cursor()
        session = lockreads.session_id(cursor, "mysql")

        def poll():
            seen = lockreads.mariadb_session(look, session)
            # Held up by a transaction that read the tables, the statement waits for a metadata lock.
            waiting = seen.waiting and "metadata lock" in seen.state
            return [TracedLock(lock.relation, lock.mode) for lock in seen.locks], seen.state, waiting

        for sql in statements:
            if missing:
                started = time.perf_counter()
                cursor.execute(sql)
                ms = round((time.perf_counter() - started) * 1000, 2)
                rows.append(TracedStatement(sql, ms, [], [], f"metadata lock modes not observable: {missing}"))
                continue
            look.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
            tables = sorted({name for (name,) in look.fetchall()} & set(_identifiers(sql)))
            with _reader(connect, [f"`{table}`" for table in tables]) as reader:
                rows.append(_observe(sql, lambda sql=sql: cursor.execute(sql), poll, reader, tables))
            rows[-1].locks = _sorted(rows[-1].locks)
    return rows


# Both servers: watch a statement run.

@contextmanager
def _reader(connect: Connect, tables: list[str], *, snapshot: bool = False):
    """A transaction on a connection of its own that has read ``tables`` (and with ``snapshot``, holds one);
    None when there is nothing to hold."""
    if not tables and not snapshot:
        yield None
        return
    with connect() as connection:
        cursor = connection.cursor()
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ" if snapshot else "BEGIN")
        for query in [f"SELECT 1 FROM {table} LIMIT 1" for table in tables] or ["SELECT 1"]:
            cursor.execute(query)
            cursor.fetchall()
        yield connection


def _observe(sql: str, run: Callable[[], None], poll: Callable[[], tuple[list[TracedLock], str, bool]],
             reader, tables: list[str]) -> TracedStatement:
    """Run a statement in a thread and poll its session until it ends; ``poll`` gives the locks held, the session's
    state and whether it waits for a lock. ``reader`` (a transaction that read ``tables``) ends once the statement is
    seen waiting, so the locks held while it waits are seen for sure."""
    locks, states, waiting_with = [], [], None
    waited = released = release = None
    started = time.perf_counter()
    statement, failure = _in_thread(run)
    try:
        while statement.is_alive():
            seen, state, waiting = poll()
            locks += [lock for lock in seen if lock not in locks]
            if state and state not in states:
                states.append(state)
            if reader is not None and release is None and (waiting or time.perf_counter() - started > PATIENCE):
                waited, waiting_with = (time.perf_counter(), seen) if waiting else (None, None)
                # Ended from another thread, so that polling goes on while the statement takes what it waited for.
                release, _ = _in_thread(lambda: reader.cursor().execute("ROLLBACK"))
                released = time.perf_counter()
            if released is None or time.perf_counter() - released > BURST:
                time.sleep(POLL_EVERY)
    finally:
        if release is not None:
            release.join()
        elif reader is not None:
            reader.cursor().execute("ROLLBACK")
        statement.join()
    elapsed = time.perf_counter() - started - (released - waited if waited else 0)
    if failure:
        raise failure[0]
    return TracedStatement(sql, round(elapsed * 1000, 2), locks, states,
                           _how(reader, tables, waiting_with, waited is None and released is not None))


def _in_thread(function: Callable[[], None]) -> tuple[threading.Thread, list[BaseException]]:
    """Start ``function`` in a thread; the list receives what it raises, to raise in the caller's thread."""
    failure: list[BaseException] = []

    def target():
        try:
            function()
        except BaseException as error:
            failure.append(error)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, failure


def _how(reader, tables: list[str], waiting_with: list[TracedLock] | None, impatient: bool) -> str:
    polled = f"{OBSERVED}: polled every {POLL_EVERY * 1000:g} ms"
    if reader is None:
        return f"{polled}, nothing held it up (it names no existing table)"
    holder = f"a transaction that read {', '.join(tables)}" if tables else "a transaction holding a snapshot"
    if impatient:
        return f"{polled}; not seen waiting for {holder} within {PATIENCE:g} s, so that transaction ended"
    if waiting_with is None:
        return f"{polled}; it never waited for {holder}"
    holding = ", ".join(f"{lock.mode} on {lock.relation}" for lock in _sorted(waiting_with) if lock.granted)
    return f"{polled}; it waited for {holder}, holding {holding or 'no table lock'}, until that transaction ended"


