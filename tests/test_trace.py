"""The lock trace (handbook_rehearse.trace, run the lab's way by lab.trace) on real engines: the modes it reports
for the examples' migrations, and the tables of lock facts it reasons with."""

import ast
import re
import sqlite3
from contextlib import closing
from itertools import product
from pathlib import Path

import pytest

import handbook_rehearse
from handbook_rehearse.lockmodes import BLOCKS, CONFLICTS, PG_MODES, sql_lock_name
from handbook_rehearse.trace import (
    EXACT, NOT_SQL, OBSERVED, PYTHON_OPERATION, SQLITE, MigrationTrace, TracedLock, TracedStatement,
)
from lab import schema
from lab.engines import sqlite_engine
from lab.fill import fill
from lab.releases import Release
from lab.trace import migrate_before, trace_migration, trace_statements

INDEX_GUIDE, COLUMN_GUIDE = "add-index-concurrently", "add-a-column-and-fill-it"
ORDERS = {"customer_id": "i % 50000", "total_cents": "i % 10000", "status": "'paid'"}  # as that example's demo
CUSTOMERS = {"name": "'Ada'", "spent_cents": "i % 100000"}
FILLED_CUSTOMERS = {**CUSTOMERS, "loyalty_points": "i % 7"}  # release 2's fill command has run
ROWS = 3_000  # enough for the statements to do real work; the trace does not need time to see locks
WAITED = "Waiting for table metadata lock"


def traced(database, slug: str, release: str, migration: str, table: str, columns: dict) -> MigrationTrace:
    """Migrate to just before ``migration``, fill ``table``, and trace the migration."""
    release = Release(slug, release)
    migrate_before(release, "shop", migration, database)
    fill(database, table, columns, ROWS)
    return trace_migration(release, "shop", migration, database)


def test_conflict_table_is_the_servers(postgresql_engine, new_database):
    """Each pair of modes conflicts on the server exactly when CONFLICTS says so, and pg_locks names the modes
    as sql_lock_name expects."""
    import psycopg

    database = new_database(postgresql_engine)
    with database.connect() as holder, database.connect() as asker:
        holder.execute("CREATE TABLE t (i int)")
        for held, asked in product(PG_MODES.values(), repeat=2):
            holder.execute("BEGIN")
            holder.execute(f"LOCK TABLE t IN {held} MODE")
            [pg_mode] = holder.execute("SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() "
                                       "AND relation = 't'::regclass").fetchone()
            assert sql_lock_name(pg_mode) == held
            asker.execute("BEGIN")
            try:
                asker.execute(f"LOCK TABLE t IN {asked} MODE NOWAIT")
                conflict = False
            except psycopg.errors.LockNotAvailable:
                conflict = True
            asker.execute("ROLLBACK")
            holder.execute("ROLLBACK")
            assert conflict == (asked in CONFLICTS[held]), f"{asked} requested while {held} is held"
    assert [mode for mode in PG_MODES.values() if BLOCKS[mode]["reads"]] == ["ACCESS EXCLUSIVE"]
    assert [mode for mode in PG_MODES.values() if BLOCKS[mode]["writes"]] == [
        "SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"]


def test_metadata_lock_facts_are_mariadbs_matrix():
    """What readers (MDL_SHARED_READ) and writers (MDL_SHARED_WRITE) wait for, from MariaDB's sql/mdl.cc."""
    assert [mode for mode, facts in BLOCKS.items() if mode.startswith("MDL_") and facts["reads"]] == [
        "MDL_SHARED_NO_READ_WRITE", "MDL_EXCLUSIVE"]
    assert [mode for mode, facts in BLOCKS.items() if mode.startswith("MDL_") and facts["writes"]] == [
        "MDL_SHARED_READ_ONLY", "MDL_SHARED_NO_WRITE", "MDL_SHARED_NO_READ_WRITE", "MDL_EXCLUSIVE"]


def test_plain_add_index_takes_share(postgresql_engine, new_database):
    database = new_database(postgresql_engine)
    trace = traced(database, INDEX_GUIDE, "release_2_unsafe", "0002", "shop_order", ORDERS)
    [statement] = trace.statements
    assert statement.sql.startswith('CREATE INDEX "order_customer_idx" ON "shop_order"')
    assert statement.method == EXACT
    assert statement.modes_on("shop_order") == ["SHARE"]  # not SHARE UPDATE EXCLUSIVE
    assert trace.blocks_writes("shop_order") and not trace.blocks_reads("shop_order")
    # An atomic migration's transaction is rolled back: the trace left no index behind.
    assert "order_customer_idx" not in schema.indexes(database, "shop_order")


def test_concurrent_add_index_takes_share_update_exclusive(postgresql_engine, new_database):
    database = new_database(postgresql_engine)
    trace = traced(database, INDEX_GUIDE, "release_2", "0002", "shop_order", ORDERS)
    # The build, among the statements that lift the session's timeouts around it.
    [statement] = [s for s in trace.statements if s.sql.startswith("CREATE INDEX")]
    assert statement.sql.startswith('CREATE INDEX CONCURRENTLY "order_customer_idx"')
    assert statement.method.startswith(OBSERVED)
    # Held up by the snapshot of a transaction that read the table, the build was seen holding its lock.
    assert "it waited for a transaction that read shop_order, holding SHARE UPDATE EXCLUSIVE on shop_order" in (
        statement.method)
    assert statement.states == ["waiting for a virtualxid lock"]
    assert statement.modes_on("shop_order") == ["SHARE UPDATE EXCLUSIVE"]  # not SHARE
    assert not trace.blocks_writes("shop_order") and not trace.blocks_reads("shop_order")
    # A concurrent build commits as it goes: the index is there, and valid.
    assert schema.indexes(database, "shop_order")["order_customer_idx"] is True


def test_adding_a_nullable_column_takes_access_exclusive(postgresql_engine, new_database):
    database = new_database(postgresql_engine)
    trace = traced(database, COLUMN_GUIDE, "release_2", "0002", "shop_customer", CUSTOMERS)
    [statement] = trace.statements
    assert statement.sql.startswith('ALTER TABLE "shop_customer" ADD COLUMN "loyalty_points" integer NULL')
    assert statement.method == EXACT
    assert statement.modes_on("shop_customer") == ["ACCESS EXCLUSIVE"]
    assert trace.blocks_reads("shop_customer") and trace.blocks_writes("shop_customer")
    assert "loyalty_points" not in schema.columns(database, "shop_customer")  # rolled back


def test_not_null_in_steps_validates_under_share_update_exclusive(postgresql_engine, new_database):
    database = new_database(postgresql_engine)
    trace = traced(database, COLUMN_GUIDE, "release_3", "0003", "shop_customer", FILLED_CUSTOMERS)
    steps = [(re.search(r"ADD CONSTRAINT|VALIDATE CONSTRAINT|SET NOT NULL|DROP CONSTRAINT", s.sql)[0],
              s.modes_on("shop_customer")) for s in trace.statements]
    assert steps == [
        ("ADD CONSTRAINT", ["ACCESS EXCLUSIVE"]),
        ("VALIDATE CONSTRAINT", ["SHARE UPDATE EXCLUSIVE"]),  # the scan: reads and writes go on
        ("SET NOT NULL", ["ACCESS EXCLUSIVE"]),
        ("DROP CONSTRAINT", ["ACCESS EXCLUSIVE"]),
    ]
    # A non-atomic migration: each statement ran in a transaction of its own, so it holds only its own locks.
    for statement in trace.statements:
        assert statement.method == EXACT and statement.held == statement.locks


def test_plain_not_null_takes_access_exclusive(postgresql_engine, new_database):
    database = new_database(postgresql_engine)
    trace = traced(database, COLUMN_GUIDE, "release_3_unsafe", "0003", "shop_customer", FILLED_CUSTOMERS)
    [statement] = trace.statements
    assert statement.sql.startswith('ALTER TABLE "shop_customer" ALTER COLUMN "loyalty_points" SET NOT NULL')
    assert trace.modes_on("shop_customer") == ["ACCESS EXCLUSIVE"]


def test_an_atomic_migration_lists_new_locks_and_everything_held(postgresql_engine, new_database):
    database = new_database(postgresql_engine)
    with database.connect() as connection:
        connection.execute("CREATE TABLE t (i int)")
    trace = trace_statements(database, [
        "CREATE INDEX t_i ON t (i)", "ALTER TABLE t ADD COLUMN j int", "ALTER TABLE t ADD COLUMN k int",
    ], atomic=True)
    index, first, second = trace.statements
    assert index.locks == [TracedLock("t", "SHARE"), TracedLock("t_i", "ACCESS EXCLUSIVE")]
    assert first.locks == [TracedLock("t", "ACCESS EXCLUSIVE")]
    assert second.locks == []  # the transaction holds that mode already: pg_locks shows it once
    assert second.held == [TracedLock("t", "ACCESS EXCLUSIVE"), TracedLock("t", "SHARE"),
                           TracedLock("t_i", "ACCESS EXCLUSIVE")]
    assert trace.modes_on("t") == ["ACCESS EXCLUSIVE", "SHARE"]
    assert schema.columns(database, "t") == {"i"} and schema.indexes(database, "t") == {}  # rolled back


MARIADB_CASES = [
    (INDEX_GUIDE, "release_2_unsafe", "0002", "shop_order", ORDERS, "CREATE INDEX `order_customer_idx`"),
    (INDEX_GUIDE, "release_2", "0002", "shop_order", ORDERS, "CREATE INDEX `order_customer_idx`"),
    (COLUMN_GUIDE, "release_2", "0002", "shop_customer", CUSTOMERS, "ALTER TABLE `shop_customer` ADD COLUMN"),
    (COLUMN_GUIDE, "release_3", "0003", "shop_customer", FILLED_CUSTOMERS, "ALTER TABLE `shop_customer` MODIFY"),
]


@pytest.mark.parametrize("slug, release, migration, table, columns, sql", MARIADB_CASES,
                         ids=[f"{case[0]}-{case[1]}" for case in MARIADB_CASES])
def test_mariadb_ddl_holds_upgradable_then_exclusive(mariadb_engine, new_database, slug, release, migration,
                                                     table, columns, sql):
    """Online DDL on MariaDB: MDL_SHARED_UPGRADABLE (reads and writes go on) throughout, MDL_EXCLUSIVE briefly,
    and it queues behind a reader for the exclusive lock."""
    for attempt in range(2):
        trace = traced(new_database(mariadb_engine), slug, release, migration, table, columns)
        [statement] = trace.statements
        # MDL_EXCLUSIVE lasts about a millisecond, and polling may miss it on a busy machine: one more try.
        if "MDL_EXCLUSIVE" in statement.modes_on(table):
            break
    assert statement.sql.startswith(sql)
    assert statement.method.startswith(OBSERVED)
    assert f"it waited for a transaction that read {table}, holding MDL_SHARED_UPGRADABLE on {table}," in (
        statement.method)
    assert statement.modes_on(table) == ["MDL_EXCLUSIVE", "MDL_SHARED_UPGRADABLE"]
    assert trace.blocks_reads(table) and trace.blocks_writes(table)
    assert WAITED in statement.states
    assert not set(statement.states) & {lock.mode for lock in statement.locks}  # states are not lock modes


def test_sqlite_rows_say_what_sqlite_locks(new_database):
    database = new_database(sqlite_engine())
    trace = traced(database, INDEX_GUIDE, "release_2_unsafe", "0002", "shop_order", ORDERS)
    [statement] = trace.statements
    assert statement.method == SQLITE and statement.locks == []
    # What the row says: while the schema change's transaction is open, no other connection may write any table.
    other = closing(sqlite3.connect(database.name, timeout=0, isolation_level=None))
    with database.connect() as changing, other as other:
        changing.execute("BEGIN")
        changing.execute(statement.sql)
        assert other.execute("SELECT count(*) FROM shop_order").fetchone() == (ROWS,)  # reads go on
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            other.execute("INSERT INTO django_migrations (app, name, applied) VALUES ('x', 'y', '2026-01-01')")
        changing.execute("ROLLBACK")


def test_python_operations_are_listed_not_traced(new_database):
    database = new_database(sqlite_engine())
    trace = trace_statements(database, [PYTHON_OPERATION, "CREATE TABLE t (i int)"])
    assert [(s.sql, s.method) for s in trace.statements] == [
        (PYTHON_OPERATION, NOT_SQL), ("CREATE TABLE t (i int)", SQLITE)]


def test_trace_survives_json_and_ranks_modes():
    share, waited_for = TracedLock("t", "SHARE"), TracedLock("t", "ACCESS EXCLUSIVE", granted=False)
    trace = MigrationTrace("PostgreSQL 18.6", [
        TracedStatement("CREATE INDEX ...", 1.5, [share], [], EXACT, [share]),
        TracedStatement("ALTER TABLE ...", 0.2, [TracedLock("t", "ROW EXCLUSIVE"), waited_for],
                        ["waiting for a relation lock"], OBSERVED),
    ], "shop.0002_x")
    assert MigrationTrace.from_json(trace.to_json()) == trace
    assert trace.modes_on("t") == ["SHARE", "ROW EXCLUSIVE"]  # strongest first; a lock waited for is not held
    assert trace.blocks_writes("t") and not trace.blocks_reads("t")


def test_the_instrument_rehearse_ships_needs_nothing_of_the_lab():
    """The trace, the watch and their lock queries install with rehearse, in a site that has no lab."""
    imported = {}
    for path in Path(handbook_rehearse.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            imported.update({name: path.name for name in names})
    outside = {name: file for name, file in imported.items()
               if name.split(".")[0] in {"lab", "tests", "conf", "psycopg", "pymysql"}}
    assert not outside, f"modules of handbook_rehearse import what it does not ship: {outside}"
