"""Which locks each statement of a migration takes: an exact trace, statement by statement (the method of
``eugene trace``).

The statements are Django's own: a process of the release (``python -m lab.trace``) collects them as
``sqlmigrate`` does, so custom operations in the example's migration files are honoured. This process then runs
them on the database and reads the locks:

* **PostgreSQL**, ``exact, after the statement``: each statement runs in a transaction on a connection of its own;
  right after it, that backend's rows of ``pg_locks`` are read. Locks are held to the end of the transaction, so
  nothing is missed, however short the statement. An atomic migration runs in one transaction, as Django runs it:
  each row lists the locks new since the previous statement (a mode the transaction already holds is not listed
  again, as ``pg_locks`` shows each mode once) and ``held``, everything held after it. A non-atomic migration runs
  each statement in a transaction of its own, as Django does, so each row is that statement's locks alone.
* PostgreSQL, ``observed while running``: a statement that cannot run in a transaction (``CREATE INDEX
  CONCURRENTLY``...) runs alone while a second connection polls ``pg_locks`` for its backend every millisecond.
* **MariaDB**, ``observed while running``: DDL commits as it ends, so its metadata locks can only be seen while it
  runs, in ``information_schema.METADATA_LOCK_INFO`` (the ``metadata_lock_info`` plugin, installed here if
  allowed), polled every millisecond with the session's state in ``PROCESSLIST``. States are not locks: they are
  kept apart, in ``states``.
* **SQLite** has no lock modes; its rows say what it does instead.

To make brief locks visible, an observed statement is held up: first a transaction on a third connection reads
the tables the statement names (and, on PostgreSQL, holds a snapshot). Where the statement needs a mode readers
conflict with (or, building an index concurrently, waits for older snapshots), it waits for that transaction,
holding what it already has; seen waiting, the transaction ends and polling goes on to the end. The time waited is
taken off the statement's time. Each row's ``method`` says how its locks were seen.

The trace is a measurement. An atomic migration's transaction is rolled back; where the migration itself commits
(non-atomic migrations, concurrent builds, MariaDB's DDL), the trace commits as ``migrate`` would, without
recording the migration: trace on a throwaway database. :func:`trace_chain` instead traces a chain of migrations
and leaves each applied, committed and recorded, as ``migrate`` would.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from . import zygote
from .engines import Database
from .locks import BLOCKS, RANK, sql_lock_name
from .releases import Release, example_dir

EXACT = "exact, after the statement"
OBSERVED = "observed while running"
NOT_SQL = "not traced: the operation runs Python code, not SQL"
# A schema change is a write transaction, and SQLite locks only whole database files
# (https://www.sqlite.org/lockingv3.html); tests/test_trace.py checks that writers are shut out meanwhile.
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


_CATALOGS = "('pg_catalog'::regnamespace, 'information_schema'::regnamespace)"
_NOT_CATALOG = f"relation NOT IN (SELECT oid FROM pg_class WHERE relnamespace IN {_CATALOGS})"
PG_OWN_LOCKS = f"""
SELECT relation::int8, relation::regclass::text, mode, granted FROM pg_locks
WHERE pid = pg_backend_pid() AND locktype = 'relation' AND {_NOT_CATALOG}
"""
PG_POLL = f"""
SELECT l.relation::int8, l.relation::regclass::text, l.mode, l.granted, a.wait_event_type, a.wait_event
FROM pg_stat_activity a LEFT JOIN pg_locks l ON l.pid = a.pid AND l.locktype = 'relation' AND l.{_NOT_CATALOG}
WHERE a.pid = %s
"""
PG_NAMES = f"SELECT oid::int8, oid::regclass::text FROM pg_class WHERE relnamespace NOT IN {_CATALOGS}"
# The tables among these names, an index standing for its table.
PG_TABLES = f"""
SELECT DISTINCT COALESCE(i.indrelid, c.oid)::regclass::text FROM pg_class c
LEFT JOIN pg_index i ON i.indexrelid = c.oid
WHERE c.relname = ANY(%s) AND c.relkind IN ('r', 'p', 'm', 'i', 'I') AND c.relnamespace NOT IN {_CATALOGS}
"""
MARIADB_POLL = """
SELECT COALESCE(p.STATE, ''), m.LOCK_MODE, m.TABLE_NAME FROM information_schema.PROCESSLIST p
LEFT JOIN information_schema.METADATA_LOCK_INFO m
  ON m.THREAD_ID = p.ID AND m.LOCK_TYPE = 'Table metadata lock' AND m.TABLE_SCHEMA = DATABASE()
WHERE p.ID = %s
"""


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
        return _strongest_first(self.locks, relation)


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
        return _strongest_first([lock for s in self.statements for lock in s.locks], relation)

    def blocks_reads(self, relation: str) -> bool:
        """Whether some statement takes a mode on ``relation`` that reads must wait for."""
        return any(BLOCKS.get(mode, {}).get("reads") for mode in self.modes_on(relation))

    def blocks_writes(self, relation: str) -> bool:
        """Whether some statement takes a mode on ``relation`` that writes must wait for."""
        return any(BLOCKS.get(mode, {}).get("writes") for mode in self.modes_on(relation))

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


def _strongest_first(locks: list[TracedLock], relation: str) -> list[str]:
    modes = {lock.mode for lock in locks if lock.relation == relation and lock.granted}
    return sorted(modes, key=lambda mode: -RANK.get(mode, -1))


def _sorted(locks) -> list[TracedLock]:
    return sorted(set(locks), key=lambda lock: (lock.relation, -RANK.get(lock.mode, -1), not lock.granted))


def migrate_before(release: Release, app_label: str, migration_name: str, database: Database) -> None:
    """Migrate ``app_label`` to just before ``migration_name`` (a name or its prefix, such as ``0002``)."""
    _in_release(release, database, "before", app_label, migration_name)


def trace_migration(release: Release, app_label: str, migration_name: str, database: Database) -> MigrationTrace:
    """Trace one migration of a release on a database that is in the state just before it."""
    collected = json.loads(_in_release(release, database, "statements", app_label, migration_name))
    return trace_statements(database, collected["statements"], atomic=collected["atomic"],
                            migration=collected["migration"])


def trace_chain(release: Release, app_label: str, database: Database, until: str | None = None) -> list[MigrationTrace]:
    """Trace each migration of ``app_label`` not yet applied, in order, up to ``until`` (a name or its prefix; the
    last one if None), leaving each applied as ``migrate`` would: its statements committed, the migration recorded.

    One process of the release serves the whole chain. It collects a migration's statements only once the ones
    before it are applied, since Django reads the schema to write some statements (the name of a foreign key to
    drop...).
    """
    process = release.start("-m", "lab.trace", "chain", app_label, *([until] if until else []), database=database,
                            role="trace", stdin=True)
    traces = []
    try:
        for line in process.stdout:
            collected = json.loads(line)
            traces.append(trace_statements(database, collected["statements"], atomic=collected["atomic"],
                                           migration=collected["migration"], commit=True))
            process.stdin.write("applied\n")  # the process records it, then collects the next one
            process.stdin.flush()
    finally:
        process.stdin.close()  # on a failed statement, the process reads the end of its input and stops
        errors = process.stderr.read()
        process.wait(timeout=60)
    if process.returncode != 0:
        raise RuntimeError(f"lab.trace chain failed in {release.name}:\n{errors}")
    return traces


def traced_modes(release: Release, app_label: str, migrations: list[str], database: Database,
                 tables: list[str]) -> dict[str, list[str]] | None:
    """Every lock mode the migrations of ``release`` from ``migrations[0]`` to ``migrations[-1]`` take on each of
    ``tables``, strongest first, traced statement by statement on ``database`` (a new one: it is migrated to just
    before the first). What a guide's table shows, where a sampler could miss a brief lock. None on SQLite, which has
    no lock modes."""
    if database.engine.vendor == "sqlite":
        return None
    migrate_before(release, app_label, migrations[0], database)
    traces = trace_chain(release, app_label, database, migrations[-1])
    return {table: _strongest_first([lock for trace in traces for s in trace.statements for lock in s.locks], table)
            for table in tables}


def traced_step(release: Release, migrations: list[str], database: Database, tables: list[str], story,
                app_label: str = "shop") -> dict[str, list[str]] | None:
    """:func:`traced_modes`, told to ``story`` (a :class:`lab.story.Story`): a demonstration's traced lock modes."""
    with story.step(f"Tracing the locks of {release.name}'s migrations {migrations[0]} to {migrations[-1]}"):
        return traced_modes(release, app_label, migrations, database, tables)


def trace_steps(steps: dict, results: dict, engine, new_database, story) -> None:
    """Add to a demonstration's ``results`` the lock modes each step's migrations take, traced (:func:`traced_step`).
    ``steps`` maps a step's label to (release, migrations, {figure name: table}); a dotted name, such as
    ``referenced.traced_lock_modes``, goes into the step's figures under ``referenced``. Steps not in ``results`` (not
    run on this engine) are skipped."""
    for label, (release, migrations, figures) in steps.items():
        if label not in results:
            continue
        traced = traced_step(release, migrations, new_database(engine), list(figures.values()), story)
        for name, table in figures.items():
            *path, key = name.split(".")
            target = results[label]["figures"]
            for part in path:
                target = target[part]
            target[key] = traced and traced[table]


def trace_statements(database: Database, statements: list[str], *, atomic: bool = True,
                     migration: str = "", commit: bool = False) -> MigrationTrace:
    """Trace statements as a migration runs them: all in one transaction if ``atomic``, else each alone.
    That one transaction is rolled back, unless ``commit``."""
    sql = [statement for statement in statements if statement != PYTHON_OPERATION]
    if database.engine.vendor == "mysql":
        traced = iter(_trace_mariadb(database, sql, atomic))
    else:
        traced = iter(_trace_in_transactions(database, sql, atomic, commit))
    rows = [TracedStatement(s, 0.0, [], [], NOT_SQL) if s == PYTHON_OPERATION else next(traced) for s in statements]
    return MigrationTrace(database.engine.label, rows, migration, atomic)


def _in_release(release: Release, database: Database, *args: str) -> str:
    """Run this module in a process of the release; its output."""
    result = zygote.run(["-m", "lab.trace", *args], cwd=example_dir(release.slug),
                        env=release.environment(database, "trace"), timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"lab.trace {' '.join(args)} failed in {release.name}:\n{result.stderr}")
    return result.stdout


def _identifiers(sql: str) -> list[str]:
    """Every word and quoted name in a statement: the candidates for the tables it names."""
    return sorted({quoted or bare for quoted, bare in re.findall(r'[`"]([^`"]+)[`"]|(\w+)', sql)})


# PostgreSQL and SQLite: transactions, as the migration has them.

def _trace_in_transactions(database: Database, statements: list[str], atomic: bool,
                           commit: bool = False) -> list[TracedStatement]:
    postgresql = database.engine.vendor == "postgresql"
    rows, names, before, in_transaction = [], {}, set(), False
    with database.connect() as connection:
        if database.engine.vendor == "sqlite":
            # Django's SQL for SQLite calls functions Django defines on its connections: Random() is RAND().
            from django.db.backends.sqlite3._functions import register

            register(connection)
        cursor = connection.cursor()
        for sql in statements:
            if postgresql and NOT_IN_TRANSACTION.search(sql):
                if in_transaction:
                    cursor.execute("COMMIT")  # the statement refuses to run in a transaction: end the open one
                    in_transaction = False
                rows.append(_pg_observe(database, connection, sql, names))
                continue
            if not in_transaction:
                cursor.execute("BEGIN")
                in_transaction, before = True, set()
            if postgresql:
                names.update(_pg_names(cursor))  # to name relations the statement drops
            started = time.perf_counter()
            cursor.execute(sql)
            ms = round((time.perf_counter() - started) * 1000, 2)
            if postgresql:
                cursor.execute(PG_OWN_LOCKS)
                held = _sorted(_pg_lock(names, *row) for row in cursor.fetchall())
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


def _pg_names(cursor) -> dict[int, str]:
    cursor.execute(PG_NAMES)
    return dict(cursor.fetchall())


def _pg_lock(names: dict[int, str], oid: int, text: str, mode: str, granted: bool) -> TracedLock:
    """A ``pg_locks`` row as a lock, named even where the relation is gone (or, to another session, not there yet)."""
    if text != str(oid):
        names[oid] = text
    return TracedLock(names.get(oid, text), sql_lock_name(mode), granted)


def _pg_observe(database: Database, traced, sql: str, names: dict[int, str]) -> TracedStatement:
    """Run a statement outside any transaction on ``traced`` while another connection polls its locks."""
    pid = traced.info.backend_pid
    with database.connect() as watcher:
        look = watcher.cursor()
        names.update(_pg_names(look))
        look.execute(PG_TABLES, (_identifiers(sql),))
        tables = [name for (name,) in look.fetchall()]

        def poll():
            look.execute(PG_POLL, (pid,))
            found = look.fetchall()
            if not found:
                return [], "", False
            locks = [_pg_lock(names, *row[:4]) for row in found if row[0] is not None]
            kind, event = found[0][4:]
            return locks, f"waiting for a {event} lock" if kind == "Lock" else "", kind == "Lock"

        with _reader(database, tables, snapshot=True) as reader:
            row = _observe(sql, lambda: traced.cursor().execute(sql), poll, reader, tables)
        names.update(_pg_names(look))  # what the statement created is committed now, so it has a name
    row.locks = _sorted(
        TracedLock(names.get(int(lock.relation), lock.relation) if lock.relation.isdigit() else lock.relation,
                   lock.mode, lock.granted)
        for lock in row.locks
    )
    return row


# MariaDB: metadata locks, seen while the statement runs.

def _trace_mariadb(database: Database, statements: list[str], atomic: bool) -> list[TracedStatement]:
    """Each statement observed while it runs; ``atomic`` changes nothing, as MariaDB commits DDL as it ends."""
    rows = []
    with database.connect() as traced, database.connect() as watcher:
        look = watcher.cursor()
        missing = _metadata_lock_view(look)
        cursor = traced.cursor()
        cursor.execute("SELECT CONNECTION_ID()")
        session = cursor.fetchone()[0]

        def poll():
            look.execute(MARIADB_POLL, (session,))
            found = look.fetchall()
            state = found[0][0] if found else ""
            return [TracedLock(table, mode) for _, mode, table in found if mode], state, "metadata lock" in state

        for sql in statements:
            if missing:
                started = time.perf_counter()
                cursor.execute(sql)
                ms = round((time.perf_counter() - started) * 1000, 2)
                rows.append(TracedStatement(sql, ms, [], [], f"metadata lock modes not observable: {missing}"))
                continue
            look.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
            tables = sorted({name for (name,) in look.fetchall()} & set(_identifiers(sql)))
            with _reader(database, [f"`{table}`" for table in tables]) as reader:
                rows.append(_observe(sql, lambda sql=sql: cursor.execute(sql), poll, reader, tables))
            rows[-1].locks = _sorted(rows[-1].locks)
    return rows


def _metadata_lock_view(cursor) -> str | None:
    """None if ``METADATA_LOCK_INFO`` can be read (installing its plugin if need be), else why not."""
    def active() -> bool:
        cursor.execute("SELECT 1 FROM information_schema.PLUGINS "
                       "WHERE PLUGIN_NAME = 'METADATA_LOCK_INFO' AND PLUGIN_STATUS = 'ACTIVE'")
        return cursor.fetchone() is not None

    if active():
        return None
    try:
        cursor.execute("INSTALL SONAME 'metadata_lock_info'")
    except Exception as error:  # no privilege, no such library, or MySQL, which has no such plugin
        if active():  # another test process installed it meanwhile
            return None
        return f"the metadata_lock_info plugin is not installed and could not be ({error})"
    return None


# Both servers: watch a statement run.

@contextmanager
def _reader(database: Database, tables: list[str], *, snapshot: bool = False):
    """A transaction on a connection of its own that has read ``tables`` (and with ``snapshot``, holds one);
    None when there is nothing to hold."""
    if not tables and not snapshot:
        yield None
        return
    with database.connect() as connection:
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


# Inside a process of the release.

def _main(verb: str, app_label: str, migration_name: str | None = None) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    if verb == "chain":
        _chain(connection, app_label, migration_name)
        return
    loader = MigrationLoader(connection, replace_migrations=False)
    migration = loader.get_migration_by_prefix(app_label, migration_name)
    if verb == "before":
        node = loader.graph.node_map[(app_label, migration.name)]
        parents = [parent.key[1] for parent in node.parents if parent.key[0] == app_label]
        if len(parents) > 1:
            raise SystemExit(f"{migration.name} merges {parents}: migrate to the state before it yourself.")
        call_command("migrate", app_label, parents[0] if parents else "zero", verbosity=0)
        return
    json.dump(_collected(loader, connection, migration), sys.stdout)


def _collected(loader, connection, migration) -> dict:
    """A migration's statements, as sqlmigrate collects them, and whether Django runs them in one transaction."""
    collected = loader.collect_sql([(migration, False)])
    return {
        "migration": f"{migration.app_label}.{migration.name}",
        # Django runs a migration in one transaction only where DDL can be rolled back.
        "atomic": migration.atomic and connection.features.can_rollback_ddl,
        # sqlmigrate's comments go, except the one standing for Python code.
        "statements": [sql for sql in collected if not sql.startswith("--") or sql == PYTHON_OPERATION],
    }


def _chain(connection, app_label: str, until: str | None) -> None:
    """For each migration still to apply: print its statements (a JSON line), wait until the tracer has run them,
    then record it as applied. Stops at the end of the input."""
    from django.db.migrations.executor import MigrationExecutor
    from django.db.migrations.recorder import MigrationRecorder

    executor = MigrationExecutor(connection)
    loader = executor.loader
    last = loader.get_migration_by_prefix(app_label, until).name if until else None
    target = (app_label, last) if last else next(n for n in loader.graph.leaf_nodes() if n[0] == app_label)
    for migration, _backwards in executor.migration_plan([target]):  # forwards only: a target ahead
        print(json.dumps(_collected(loader, connection, migration)), flush=True)
        if sys.stdin.readline().strip() != "applied":
            return
        MigrationRecorder(connection).record_applied(migration.app_label, migration.name)


if __name__ == "__main__":
    _main(*sys.argv[1:])
