"""The locks each migration operation takes, traced statement by statement, at two sizes of the table.

Release 1's migrations form one chain, one operation each. On a fresh database per size, the chain is migrated to
0001, the tables are filled, and each migration in turn is traced (:mod:`lab.trace`) and left applied. Used by
``nox -s evidence`` (to record the reference page ``docs/reference/locks.md``) and by the tests (to check it).
"""

from __future__ import annotations

from handbook_rehearse.lockmodes import BLOCKS, strongest_first
from handbook_rehearse.trace import EXACT, OBSERVED, SQLITE, MigrationTrace
from lab import templates
from lab.engines import Database
from lab.fill import fill
from lab.releases import Release
from lab.story import Story
from lab.trace import migrate_before, trace_chain

SLUG = "lock-reference"
APP = "shop"
RELEASE = Release(SLUG, "release_1")
SMALL_ROWS = 10_000
ORDERS, PURCHASES, CUSTOMERS = "shop_order", "shop_purchase", "shop_customer"
TABLES = (ORDERS, PURCHASES, CUSTOMERS)
# Each migration of the chain, in order: its label, the operation, and the guide that covers it, if one does.
CHAIN = [
    ("0002", "add_nullable", "AddField, null=True", "add-a-column-and-fill-it"),
    ("0003", "add_db_default", "AddField, db_default=0", "add-a-column-and-fill-it"),
    ("0004", "add_volatile", "AddField, db_default=Random()", "add-a-column-and-fill-it"),
    ("0005", "add_default_only", "AddField, NOT NULL, default=0", "add-a-column-and-fill-it"),
    ("0006", "set_not_null", "AlterField, null → NOT NULL", "add-a-column-and-fill-it"),
    ("0007", "drop_not_null", "AlterField, NOT NULL → null", "add-a-constraint"),
    ("0008", "varchar_longer", "AlterField, varchar(20) → varchar(40)", "change-a-column-type"),
    ("0009", "varchar_shorter", "AlterField, varchar(40) → varchar(16)", "change-a-column-type"),
    ("0010", "int_to_bigint", "AlterField, integer → bigint", "change-a-column-type"),
    ("0011", "add_index", "AddIndex", "add-index-concurrently"),
    ("0012", "remove_index", "RemoveIndex", None),
    ("0013", "add_index_concurrently", "AddIndexConcurrently", "add-index-concurrently"),
    ("0014", "remove_index_concurrently", "RemoveIndexConcurrently", None),
    ("0015", "add_check", "AddConstraint, CHECK", "add-a-constraint"),
    ("0016", "remove_check", "RemoveConstraint, CHECK", "add-a-constraint"),
    ("0017", "add_check_not_valid", "AddConstraintNotValid, CHECK", "add-a-constraint"),
    ("0018", "validate_check", "ValidateConstraint, CHECK", "add-a-constraint"),
    ("0019", "add_unique", "AddConstraint, UNIQUE", "add-a-constraint"),
    ("0020", "remove_unique", "RemoveConstraint, UNIQUE", None),
    ("0021", "add_unique_using_index", "UNIQUE: index concurrently, USING INDEX", "add-a-constraint"),
    ("0022", "bigint_trigger", "integer → bigint: column and trigger", "change-a-column-type"),
    # Set-up, not a row: the copy and the validated CHECK that the swap relies on (the guide's steps 2 to 5).
    ("0023", None, "integer → bigint: copy, CHECK NOT VALID, VALIDATE", None),
    ("0024", "bigint_swap", "integer → bigint: the swap", "change-a-column-type"),
    ("0025", "add_foreign_key", "AddField, ForeignKey", "add-a-foreign-key"),
    ("0026", "fk_column", "ForeignKey in steps: the column alone", "add-a-foreign-key"),
    ("0027", "fk_not_valid", "ForeignKey in steps: NOT VALID", "add-a-foreign-key"),
    ("0028", "fk_validate", "ForeignKey in steps: VALIDATE", "add-a-foreign-key"),
    ("0029", "rename_field", "RenameField", "rename-a-field"),
    ("0030", "remove_field", "RemoveField", "remove-a-field"),
    ("0031", "rename_model", "RenameModel", "rename-a-field"),
    ("0032", "delete_model", "DeleteModel", "remove-a-field"),
    # Set-up, not a row: the customers' name indexed (a B-tree index, and on PostgreSQL a _like one for LIKE).
    ("0033", None, "AlterField, CharField → CharField(db_index=True)", None),
    ("0034", "indexed_varchar_to_text", "AlterField, indexed varchar → text", "change-a-column-type"),
]
# What the evidence records: the operation of each step; the reference shows no SQL of its own.
OPERATIONS = {label: operation for _, label, operation, _ in CHAIN if label}
GUIDES = {label: guide for _, label, _, guide in CHAIN if label}
SQL: list[tuple[str, str, str]] = []
# The table each operation works on: Order until it is renamed Purchase (the rename locks both names on MariaDB).
OPERATION_TABLES = {label: [ORDERS] for label in OPERATIONS} | {
    "rename_model": [ORDERS, PURCHASES], "delete_model": [PURCHASES], "indexed_varchar_to_text": [CUSTOMERS],
}
# What a waiting read or write faces: no lock of the operation stops it, one stops it briefly, or one stops it for
# as long as the statement runs on a table of this size.
NO, BRIEFLY, WHOLE = "no", "briefly", "whole statement"
NO_LOCK_VIEW = "no lock view"
NO_SQL = "no SQL"  # the operation does nothing on this engine (a validation only PostgreSQL needs)
# Online DDL on MariaDB works under a mode that lets reads and writes through and takes MDL_EXCLUSIVE only to start
# and to swap in the result: however long the statement, a wait for that mode is brief.
MDL_EXCLUSIVE = "MDL_EXCLUSIVE"
# How long an operation must take at the large size, against the small, to be said to grow with the rows.
GROWTH_FACTOR = 10
GROWTH_FLOOR_MS = 20


def grows(small_ms: float, large_ms: float) -> bool:
    """Whether an operation's time grows with the rows: at the large size, GROWTH_FACTOR times the small one's
    time and at least GROWTH_FLOOR_MS (below that, noise)."""
    return large_ms >= GROWTH_FACTOR * small_ms and large_ms >= GROWTH_FLOOR_MS


def order_columns(vendor: str) -> dict[str, str]:
    """Release 1's orders as SQL of ``i``: codes unique, for the UNIQUE constraint; every status set, for NOT NULL."""
    code = "'A' || i" if vendor == "sqlite" else "CONCAT('A', i)"
    return {"total_cents": "i % 10000", "code": code, "status": "'paid'"}


def filled_tables(database: Database, rows: int, story: Story) -> None:
    """The app migrated to 0001, ``rows`` rows in each table (a copy, when this process filled them before)."""
    def build(target: Database) -> None:
        migrate_before(RELEASE, APP, CHAIN[0][0], target)
        with story.progress(f"Filling {ORDERS} and {CUSTOMERS} with {rows:,} rows each", 2 * rows) as advance:
            fill(target, ORDERS, order_columns(target.engine.vendor), rows, progress=lambda done, _: advance(done))
            fill(target, CUSTOMERS, {"name": "'Ada'"}, rows, progress=lambda done, _: advance(rows + done))

    if templates.filled(database, (SLUG, "filled_tables", rows), build):
        story.say(f"{ORDERS} and {CUSTOMERS}: a copy of the {rows:,} rows each filled before")


def traced_chain(database: Database, rows: int, story: Story, until: str | None = None) -> dict[str, MigrationTrace]:
    """Migrate to 0001, fill the tables with ``rows`` rows each, then trace every migration after it (up to the one
    of label ``until``), each left applied; the traces by label."""
    filled_tables(database, rows, story)
    chain = CHAIN[:[label for _, label, _, _ in CHAIN].index(until) + 1] if until else CHAIN
    with story.step(f"Tracing {len(chain)} migrations, one operation each"):
        traces = trace_chain(RELEASE, APP, database, chain[-1][0])
    names = [trace.migration.removeprefix(f"{APP}.")[:4] for trace in traces]
    if names != [prefix for prefix, *_ in chain]:
        raise RuntimeError(f"the chain traced {names}, not the migrations this demonstration names")
    return {label: trace for (_, label, _, _), trace in zip(chain, traces, strict=True) if label}


def modes(traces: list[MigrationTrace], tables: list[str]) -> list[str]:
    """Every mode the traces saw taken on any of ``tables``, strongest first."""
    return strongest_first(mode for trace in traces for table in tables for mode in trace.modes_on(table))


def how(traces: list[MigrationTrace]) -> tuple[str, list[str]]:
    """How the locks were seen: exact, observed while running, not observable or no lock view; and each way once."""
    methods = list(dict.fromkeys(s.method for trace in traces for s in trace.statements))
    if not methods:
        return NO_SQL, methods
    if any(method == SQLITE for method in methods):
        return NO_LOCK_VIEW, methods
    if any(method.startswith(OBSERVED) for method in methods):
        return OBSERVED, methods
    if methods and all(method == EXACT for method in methods):
        return "exact", methods
    return "not observable", methods


def wait(traces: list[MigrationTrace], tables: list[str], kind: str, growing: bool,
         lasting: list[bool] | None = None) -> str:
    """What a read or write (``kind``) of the table faces while the operation runs: NO, BRIEFLY or WHOLE.
    ``lasting`` says, statement by statement, whether its own time grows with the rows: in a migration that is not
    atomic each statement holds its locks for its own time only."""
    if how(traces)[0] == NO_LOCK_VIEW:
        # SQLite, in its default rollback-journal mode (Django's too): a schema change shuts writers out (the
        # tracer's finding, tested in tests/test_trace.py), and readers too once it takes the file's EXCLUSIVE
        # lock, to spill a big change to disk or to commit. A rebuild's readers wait: the deploys measure it.
        return WHOLE if growing else BRIEFLY
    held_throughout = blocked = False
    for position, statement in enumerate(s for trace in traces for s in trace.statements):
        taken = {mode for table in tables for mode in statement.modes_on(table)}
        blocking = {mode for mode in taken if BLOCKS.get(mode, {}).get(kind)}
        blocked = blocked or bool(blocking)
        # MDL_EXCLUSIVE beside a mode the statement works under is the brief start and swap of online DDL.
        brief = blocking == {MDL_EXCLUSIVE} and bool(taken - blocking)
        # In one transaction a lock lasts to the end; a statement run alone holds its locks for its own time.
        lasts = growing if traces[-1].atomic or not lasting else lasting[position % len(lasting)]
        held_throughout = held_throughout or (bool(blocking) and not brief and lasts)
    if not blocked:
        return NO
    return WHOLE if held_throughout else BRIEFLY


def cells(label: str, traces: list[MigrationTrace], growing: bool, lasting: list[bool] | None = None) -> dict:
    """The Lock, Reads wait and Writes wait cells of ``label``'s row, from ``traces``, whether its time grows and
    whether each statement's does (``lasting``, see :func:`wait`)."""
    tables = OPERATION_TABLES[label]
    return {
        "lock_modes": modes(traces, tables),
        # A lock on another table: the one a foreign key points to.
        "other_tables": {table: found for table in TABLES if table not in tables and (found := modes(traces, [table]))},
        "reads_wait": wait(traces, tables, "reads", growing, lasting),
        "writes_wait": wait(traces, tables, "writes", growing, lasting),
        # What requests to those other tables face: a foreign key's target is usually a busy table.
        "other_waits": {table: {kind: wait(traces, [table], kind, growing, lasting) for kind in ("reads", "writes")}
                        for table in TABLES if table not in tables and modes(traces, [table])},
    }


def figures(label: str, small: MigrationTrace, large: MigrationTrace, small_rows: int, large_rows: int) -> dict:
    """What the reference shows of one operation on one engine, from its traces at both sizes."""
    tables = OPERATION_TABLES[label]
    traces = [small, large]
    small_ms, large_ms = (round(sum(s.ms for s in trace.statements), 1) for trace in traces)
    growing = grows(small_ms, large_ms)
    lasting = [grows(a.ms, b.ms) for a, b in zip(small.statements, large.statements, strict=True)]
    observed, methods = how(traces)
    return {
        "migration": large.migration,
        "tables": tables,
        "guide": GUIDES[label],
        **cells(label, traces, growing, lasting),
        "blocks_reads": any(trace.blocks_reads(table) for trace in traces for table in tables),
        "blocks_writes": any(trace.blocks_writes(table) for trace in traces for table in tables),
        "small_rows": small_rows, "small_ms": small_ms,
        "large_rows": large_rows, "large_ms": large_ms,
        "grows": growing,
        "statements_grow": lasting,
        "observed": observed,
        "methods": methods,
        "traces": {"small": small.to_json(), "large": large.to_json()},
    }


def demonstrate(engine, rows: int, story: Story, new_database) -> dict:
    """The chain traced on fresh databases of SMALL_ROWS and of ``rows`` rows; the figures of each operation."""
    sizes = sorted({SMALL_ROWS, rows})
    traced = {}
    for size in sizes:
        story.heading(f"The chain of {len(CHAIN)} migrations on {engine.label}, {size:,} rows")
        traced[size] = traced_chain(new_database(engine), size, story)
    small, large = traced[sizes[0]], traced[sizes[-1]]
    return {
        label: {"figures": figures(label, small[label], large[label], sizes[0], sizes[-1]), "report": None,
                "rows": sizes[-1]}
        for label in OPERATIONS
    }
