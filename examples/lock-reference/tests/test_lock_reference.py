"""The claims of docs/reference/locks.md, row by row, checked on real engines at the small size.

Each engine traces the whole chain once, at 10,000 rows (a module-scoped fixture); each row of the engine's table
in the reference is then a claim about that pass. Whether a row's time grows with the rows is checked on the times
recorded at both sizes: the large one is too slow for the tests.
"""

import sqlite3
from contextlib import closing
from types import SimpleNamespace

import pytest

from handbook_rehearse.trace import SQLITE, MigrationTrace
from lab import evidence
from lab.claims import check
from lab.engines import sqlite_engine
from lab.releases import example_module, releases
from lab.story import Story

demo = example_module("lock-reference", "demonstration")
PAGE = "docs/reference/locks"  # the page these claims are made on
QUIET = Story(quiet=True)
LABELS = list(demo.OPERATIONS)
# The row a row is best told apart from, when the reference states them differently on the engine.
CONTRASTS = {
    "add_index": ["add_index_concurrently"], "add_index_concurrently": ["add_index"],
    "remove_index": ["remove_index_concurrently"], "remove_index_concurrently": ["remove_index"],
    "rename_model": ["delete_model"], "delete_model": ["rename_model"],
    "add_nullable": ["add_volatile"], "add_volatile": ["add_nullable"],
    "add_check": ["add_check_not_valid"], "add_check_not_valid": ["add_check"],
    "add_unique": ["add_unique_using_index"], "add_unique_using_index": ["add_unique"],
    "int_to_bigint": ["bigint_swap"], "bigint_swap": ["int_to_bigint"],
    "add_foreign_key": ["fk_not_valid"], "fk_not_valid": ["add_foreign_key"], "fk_validate": ["add_foreign_key"],
    "indexed_varchar_to_text": ["varchar_longer"],
}
# Otherwise, the first of these the reference states differently.
FALLBACK = ["add_index_concurrently", "add_index", "add_nullable", "varchar_shorter", "add_volatile", *LABELS]


@pytest.fixture(scope="module")
def reference(engine):
    """What the reference states for this engine, and the chain traced once now at the small size."""
    run = evidence.recorded_run(demo.SLUG, engine)
    if run is None:
        pytest.skip(f"the reference has no table for {engine.label}: run nox -s evidence -- {demo.SLUG}")
    database = engine.create_database()
    try:
        traces = demo.traced_chain(database, demo.SMALL_ROWS, QUIET)
        probes = _sqlite_probes(engine, traces) if engine.vendor == "sqlite" else {}
    finally:
        database.drop()

    def again(label: str) -> MigrationTrace:
        """The chain traced once more on a new database, up to ``label``: that migration's trace."""
        other = engine.create_database()
        try:
            return demo.traced_chain(other, demo.SMALL_ROWS, QUIET, until=label)[label]
        finally:
            other.drop()

    return SimpleNamespace(run=run, traces=traces, probes=probes, again=again)


def agrees(found: dict, expected: dict, exact: bool) -> bool:
    """Whether a row's cells, as traced now, agree with the reference's. Seen only while running, a passing
    mode can be missed at the small size: there each table's strongest mode must be the one stated, and every
    mode seen one the reference lists."""
    if exact:
        return found == expected
    stated_modes = {"": expected["lock_modes"], **expected["other_tables"]}
    seen_modes = {"": found["lock_modes"], **found["other_tables"]}
    return (seen_modes.keys() == stated_modes.keys()
            and all(seen[:1] == stated_modes[table][:1] and set(seen) <= set(stated_modes[table])
                    for table, seen in seen_modes.items())
            and all(found[kind] == expected[kind] for kind in ("reads_wait", "writes_wait", "other_waits")))


def stated(run: dict, label: str) -> dict:
    return {key: run[label][key] for key in ("lock_modes", "other_tables", "reads_wait", "writes_wait", "other_waits")}


def contrast_for(run: dict, label: str, differs) -> str:
    """The row to contrast ``label`` with: the preferred one, else the first the reference states otherwise."""
    for other in [*CONTRASTS.get(label, []), *FALLBACK]:
        if other != label and differs(run[other], run[label]):
            return other
    raise AssertionError(f"the reference states every row like {label}'s: no row to contrast it with")


@pytest.mark.parametrize("release", releases(demo.SLUG), ids=lambda r: r.name)
def test_models_match_the_migrations(release, new_database):
    result = release.run("makemigrations", "--check", "--dry-run", database=new_database(sqlite_engine()))
    assert result.ok, f"{release.name}: models and migrations differ:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("label", LABELS)
def test_row_locks_and_waits(reference, engine, label):
    run, operation = reference.run, demo.OPERATIONS[label]
    expected = stated(run, label)

    def row(other: str) -> SimpleNamespace:
        """A row's trace now, and whether its time grows, as recorded (the claim of the other test)."""
        return SimpleNamespace(trace=reference.traces[other], growing=run[other]["grows"],
                               lasting=run[other]["statements_grow"])

    def cells_of(seen: SimpleNamespace) -> dict:
        """The cells of this row, as ``seen`` (a row's trace now) gives them."""
        return demo.cells(label, [seen.trace], seen.growing, seen.lasting)

    if engine.vendor == "sqlite" and reference.traces[label].statements:  # an operation without SQL writes nothing
        check(f"{operation}: on SQLite, no other connection can write while it runs",
              lambda probe: probe.sqlite and probe.write_refused, reference.probes[label]["during"],
              contrast="the same write once the migration has committed",
              against=lambda: reference.probes[label]["after"], guide=PAGE, engine=engine)
    other = contrast_for(run, label, lambda a, b: [a[k] for k in expected] != [b[k] for k in expected])
    exact = run[label]["observed"] == "exact"
    seen = row(label)
    if not exact and not agrees(cells_of(seen), expected, exact):
        # Polled every millisecond, a lock held about as long (MariaDB's MDL_EXCLUSIVE of an instant change) can be
        # missed on a busy machine: what a second look sees counts too, as in tests/test_trace.py.
        retraced = reference.again(label)
        seen.trace = MigrationTrace(seen.trace.engine_label, seen.trace.statements + retraced.statements,
                                    seen.trace.migration, seen.trace.atomic)
    locks = ", ".join(expected["lock_modes"]) or "no lock"
    check(f"{operation} takes {locks} on the table{'' if exact else ' (seen while running: its strongest mode)'}, "
          f"on other tables {expected['other_tables'] or 'none'} ({expected['other_waits'] or 'no wait'}); "
          f"reads wait: {expected['reads_wait']}; writes wait: {expected['writes_wait']}",
          lambda seen: agrees(cells_of(seen), expected, exact), seen,
          contrast=f"the row of {demo.OPERATIONS[other]}", against=lambda: row(other),
          observed=lambda seen: f"{cells_of(seen)} in {seen.trace.migration}",
          guide=PAGE, engine=engine)


@pytest.mark.parametrize("label", LABELS)
def test_row_time_grows_with_rows_or_not(reference, engine, label):
    """From the times recorded at both sizes: the tests run the small size only."""
    run, operation = reference.run, demo.OPERATIONS[label]
    expected = run[label]["grows"]

    def times(other: str) -> tuple[float, float]:
        return run[other]["small_ms"], run[other]["large_ms"]

    other = contrast_for(run, label, lambda a, b: a["grows"] != b["grows"])
    check(f"{operation}'s time {'grows' if expected else 'does not grow'} with the rows "
          f"({run[label]['small_rows']:,} against {run[label]['large_rows']:,})",
          lambda pair: demo.grows(*pair) == expected, times(label),
          contrast=f"the row of {demo.OPERATIONS[other]}", against=lambda: times(other),
          observed=lambda pair: f"{pair[0]:.1f} ms, then {pair[1]:.1f} ms", guide=PAGE, engine=engine)


def test_sql_traced_is_the_sql_the_reference_was_measured_with(reference, engine):
    """What Django writes for each migration on this engine is what the recorded trace ran."""
    import django

    traced_with = (evidence.load(demo.SLUG) or {}).get("django", "")
    if traced_with.split(".")[:2] != django.get_version().split(".")[:2]:
        pytest.skip(f"the reference was traced with Django {traced_with}; this is Django {django.get_version()}")
    for label in LABELS:
        recorded = MigrationTrace.from_json(reference.run[label]["traces"]["small"])
        assert [s.sql for s in reference.traces[label].statements] == [s.sql for s in recorded.statements], label


def _sqlite_probes(engine, traces: dict[str, MigrationTrace]) -> dict[str, dict]:
    """Each migration's traced statements replayed on a new SQLite database: whether another connection could
    write while its transaction was open ("during"), and once it had committed ("after")."""
    from django.db.backends.sqlite3._functions import register  # the functions Django's SQL calls (RAND)

    database = engine.create_database()
    probes = {}
    try:
        demo.filled_tables(database, demo.SMALL_ROWS, QUIET)
        with database.connect() as migrating, closing(sqlite3.connect(database.name, timeout=0,
                                                                      isolation_level=None)) as other:
            register(migrating)
            for label, trace in traces.items():
                migrating.execute("BEGIN")
                for statement in trace.statements:
                    migrating.execute(statement.sql)
                during = _write_refused(other)
                migrating.execute("COMMIT")
                traced_as_sqlite = all(statement.method == SQLITE for statement in trace.statements)
                after = _write_refused(other)
                probes[label] = {"during": SimpleNamespace(sqlite=traced_as_sqlite, write_refused=during),
                                 "after": SimpleNamespace(sqlite=traced_as_sqlite, write_refused=after)}
    finally:
        database.drop()
    return probes


def _write_refused(connection) -> bool:
    """Whether a write transaction is refused at once: the database is locked for writing."""
    try:
        connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        assert "locked" in str(error), error
        return True
    connection.execute("ROLLBACK")
    return False
