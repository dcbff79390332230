"""The claims of guides/add-a-constraint.md, checked on real engines."""

import threading
import time
from contextlib import contextmanager
from types import SimpleNamespace

import pytest

from lab import evidence
from lab.claims import check
from lab.copy_span import copy_ms
from lab.deploy import DeployReport, migrate, run_sql
from lab.engines import sqlite_engine
from lab.releases import CommandRun, example_module, releases
from lab.story import Story

demo = example_module("add-a-constraint", "demonstration")
GUIDE = demo.SLUG
ROWS = 1_000_000  # the measured steps' table: the CHECK's scan and the index build take long enough to see waits
MARIADB_ROWS = 300_000  # MariaDB fills slowly; its CHECK copies the table for long enough at this size
SMALL = 1_000  # where only failures are counted
BUILD_ROWS = 200_000  # a concurrent build whose scan lasts long enough (tens of ms) to be caught in it
QUIET = Story(quiet=True)


@pytest.fixture(scope="module")
def orders(engine):
    """The loosening and the tightening, each in the wrong order and in the right one, once per engine."""
    made = []

    def new_database():
        made.append(engine.create_database())
        return made[-1]

    try:
        yield demo.orders(new_database, SMALL, QUIET)
    finally:
        for database in made:
            database.drop()


def failed(r: DeployReport) -> int:
    return sum(r.old.errors.values()) + sum(r.new.errors.values())


def errors(r: DeployReport) -> str:
    return "; ".join(f"{count}× {error}" for error, count in (r.old.errors + r.new.errors).most_common(3))


@pytest.mark.parametrize("release", releases(GUIDE), ids=lambda r: r.name)
def test_makemigrations_check_is_clean_at_every_release(release, new_database):
    result = release.run("makemigrations", "--check", "--dry-run", database=new_database(sqlite_engine()))
    assert result.ok, f"{release.name}: models and migrations differ:\n{result.stdout}{result.stderr}"


def test_code_that_relies_on_a_loosening_fails_until_the_loosening_is_migrated(orders, engine):
    def fails_on_both(r: DeployReport) -> bool:
        text = errors(r).lower()
        return failed(r) > 0 and "shipping_address" in text and "order_quantity_at_most_10" in text

    check("release 2's code serving before its migration: its digital orders fail on NOT NULL and its bulk "
          "orders on the CHECK", fails_on_both, orders["loosen_code_first"],
          contrast="release 2's migration first, then its code", against=lambda: orders["loosen_first"],
          observed=errors, guide=GUIDE, engine=engine)


def test_the_loosening_migrated_first_fails_no_request(orders, engine):
    check("release 2's migration while release 1 serves, then release 2's code: no request fails",
          lambda r: r.migration.ok and failed(r) == 0, orders["loosen_first"],
          contrast="release 2's code first, then its migration", against=lambda: orders["loosen_code_first"],
          observed=lambda r: errors(r) or r.migration.error_line(), guide=GUIDE, engine=engine)


def test_a_tightening_shipped_before_the_code_that_satisfies_it_fails(orders, engine):
    # On PostgreSQL the CHECK goes on NOT VALID whatever the rows, and release 1's next negative total fails; the
    # validation then fails on the rows release 1 wrote. Elsewhere AddConstraint checks the rows first: it fails.
    def fails(r: DeployReport) -> bool:
        if engine.vendor == "postgresql":
            return not r.migration.ok and sum(r.old.errors.values()) > 0 \
                and "order_total_cents_gte_0" in errors(r)
        return not r.migration.ok and "order_total_cents_gte_0" in r.migration.stderr

    check("release 3 deployed while release 1 still writes negative totals fails: on PostgreSQL release 1's "
          "orders fail and the validation too; elsewhere the migration", fails, orders["tighten_with_code"],
          contrast="release 3 once release 2 serves and the totals are fixed",
          against=lambda: orders["tighten_after"],
          observed=lambda r: f"{r.migration.error_line()}\n{errors(r)}", guide=GUIDE, engine=engine)


def test_the_tightening_after_the_code_and_the_data_fails_no_request(orders, engine):
    check("release 3 deployed once release 2 serves and fix_negative_totals has run: migrated, no request fails",
          lambda r: r.migration.ok and failed(r) == 0, orders["tighten_after"],
          contrast="release 3 while release 1 serves", against=lambda: orders["tighten_with_code"],
          observed=lambda r: f"{r.migration.error_line()}\n{errors(r)}", guide=GUIDE, engine=engine)
    assert orders["fix_totals"].migration.ok and failed(orders["fix_totals"]) == 0, orders["fix_totals"].summary()


def negative_totals(database) -> int:
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute(f"SELECT count(*) FROM {demo.ORDERS} WHERE total_cents < 0")
        return cursor.fetchone()[0]


def test_fix_negative_totals_fixes_what_a_stopped_run_left(new_database):
    database = at_release_2(sqlite_engine(), new_database)
    first = demo.RELEASE_2.run("fix_negative_totals", "--batch-size", "300", database=database)
    assert first.ok and "Done: 200 totals set to 0" in first.stdout, first.stdout + first.stderr
    # What a run stopped half-way leaves: negative totals in the ids it had not reached.
    assert run_sql(database, f"UPDATE {demo.ORDERS} SET total_cents = -1 WHERE id > 970").ok
    left = negative_totals(database)
    again = demo.RELEASE_2.run("fix_negative_totals", database=database)
    done = demo.RELEASE_2.run("fix_negative_totals", database=database)
    check("a second run of fix_negative_totals fixes what is left; a third finds nothing to fix",
          lambda found: found[0] == 0 and found[1], (negative_totals(database), "Nothing to fix" in done.stdout),
          contrast="the table and the output of the second run", against=lambda: (left, "Nothing to fix" in again.stdout),
          observed=lambda found: f"{found[0]} negative totals left; {again.stdout}{done.stdout}", guide=GUIDE,
          engine=sqlite_engine())
    bad = demo.RELEASE_2.run("fix_negative_totals", "--batch-size", "0", database=database)
    assert bad.returncode == 1 and "--batch-size must be at least 1, not 0" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_fix_negative_totals_fails_when_negative_totals_arrive_while_it_runs(postgresql_engine, new_database):
    def fixed(arriving: bool) -> CommandRun:
        database = at_release_2(postgresql_engine, new_database)
        if arriving:  # as release 1 would, still serving somewhere: a new negative total with every batch
            assert run_sql(database, "CREATE FUNCTION old_code() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                                     f"INSERT INTO {demo.ORDERS} (total_cents, quantity, shipping_address, reference) "
                                     "VALUES (-100, 1, 'x', md5(random()::text)); RETURN NULL; END $$",
                           f"CREATE TRIGGER old_code AFTER UPDATE ON {demo.ORDERS} FOR EACH STATEMENT "
                           "EXECUTE FUNCTION old_code()").ok
        return demo.RELEASE_2.run("fix_negative_totals", "--batch-size", "300", database=database)

    check("fix_negative_totals ends with an error, not 'Done', when negative totals arrive while it runs",
          lambda run: run.returncode == 1 and "still have a negative total" in run.stderr
          and "Traceback" not in run.stderr, fixed(arriving=True), contrast="no negative total arriving",
          against=lambda: fixed(arriving=False), observed=lambda run: run.stdout + run.stderr, guide=GUIDE,
          engine=postgresql_engine)


@pytest.fixture(scope="module")
def steps(postgresql_engine):
    """The generated CHECK and UNIQUE, and the recipe's three steps, each deployed while release 2's real site
    serves."""
    found = {}
    for labels in (["check_generated", "unique_generated"], ["check_not_valid", "check_validate",
                                                              "unique_concurrently"]):
        database = postgresql_engine.create_database()
        try:
            found |= demo.steps(database, labels, ROWS, QUIET)
        finally:
            database.drop()
    return found


def stops_everyone(r: DeployReport) -> bool:
    """The migration held ACCESS EXCLUSIVE for 20 ms or more, and neither a read nor a write completed for half of
    it: a stall, not the worst latency, because on the site a request that waits past nginx's timeout ends as a
    504."""
    held = r.locks.longest([s for s in r.locks.held("migrate", demo.ORDERS) if s.mode == "ACCESS EXCLUSIVE"])
    return r.migration.ok and held >= 20 and r.during_migration("read")["longest_stall_ms"] >= 0.5 * held \
        and r.during_migration("write")["longest_stall_ms"] >= 0.5 * held


@pytest.mark.measures
@pytest.mark.parametrize("kind", ["check", "unique"])
def test_the_generated_constraint_stops_reads_and_writes(steps, postgresql_engine, kind):
    recipe = "check_validate" if kind == "check" else "unique_concurrently"
    check(f"AddConstraint({kind.upper()}) holds ACCESS EXCLUSIVE while it reads the whole table: reads and writes "
          "wait for it", stops_everyone, steps[f"{kind}_generated"], contrast=f"the recipe's {demo.OPERATIONS[recipe]}",
          against=lambda: steps[recipe], observed=DeployReport.summary, guide=GUIDE, engine=postgresql_engine)


@pytest.mark.measures
@pytest.mark.parametrize("label", ["check_not_valid", "check_validate", "unique_concurrently"])
def test_no_step_of_the_recipe_makes_a_request_wait_for_a_lock(steps, postgresql_engine, label):
    contrast = "unique_generated" if label == "unique_concurrently" else "check_generated"
    check(f"step {demo.OPERATIONS[label]!r}: no read or write waits 20 ms for a lock", lambda r: r.migration.ok
          and not r.failures and r.longest_site_wait_ms() < 20, steps[label], contrast=demo.OPERATIONS[contrast],
          against=lambda: steps[contrast],
          observed=lambda r: f"longest lock wait {r.longest_site_wait_ms():.0f} ms\n{r.summary()}", guide=GUIDE,
          engine=postgresql_engine)


@pytest.mark.measures
def test_validation_takes_no_lock_that_stops_writes(steps, postgresql_engine):
    blocks_writes = {"SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"}

    def harmless(r: DeployReport) -> bool:
        modes = {s.mode for s in r.locks.held("migrate", demo.ORDERS)}
        return "SHARE UPDATE EXCLUSIVE" in modes and not modes & blocks_writes

    check("VALIDATE CONSTRAINT holds SHARE UPDATE EXCLUSIVE through its scan, and nothing that stops writes",
          harmless, steps["check_validate"], contrast="the generated AddConstraint(CHECK)",
          against=lambda: steps["check_generated"], observed=lambda r: r.locks.summary(), guide=GUIDE,
          engine=postgresql_engine)


def constraints(database) -> dict:
    """The constraints of the orders table (kind, validated, definition, index valid) and its indexes, by name."""
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT c.conname, c.contype, c.convalidated, pg_get_constraintdef(c.oid), i.indisvalid "
                       "FROM pg_constraint c LEFT JOIN pg_index i ON i.indexrelid = c.conindid "
                       f"WHERE c.conrelid = '{demo.ORDERS}'::regclass ORDER BY c.conname")
        found = {row[0]: row[1:] for row in cursor.fetchall()}
        cursor.execute(f"SELECT indexname, indexdef FROM pg_indexes WHERE tablename = '{demo.ORDERS}'")
        return {"constraints": found, "indexes": dict(cursor.fetchall())}


def test_the_recipe_ends_in_the_schema_the_generated_migrations_make(postgresql_engine, new_database):
    def migrated(release, until=None) -> dict:
        database = at_release_2(postgresql_engine, new_database, fixed=True)
        assert migrate(release, database, *(("shop", until) if until else ())).ok
        if until:  # the unique index alone, built concurrently, without ADD CONSTRAINT … USING INDEX
            assert run_sql(database, f"CREATE UNIQUE INDEX CONCURRENTLY order_reference_key ON {demo.ORDERS} "
                                     "(reference)").ok
        return constraints(database)

    generated = migrated(demo.GENERATED)
    check("after release 3's migrations the table has the constraints and indexes of the generated ones, "
          "validated", lambda found: found == generated, migrated(demo.RELEASE_3),
          contrast="the unique index alone, not made the constraint", against=lambda: migrated(demo.RELEASE_3, "0004"),
          observed=lambda found: f"{found}\nagainst the generated migrations' {generated}", guide=GUIDE,
          engine=postgresql_engine)


def index_state(database) -> tuple[bool, bool] | None:
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT indisready, indisvalid FROM pg_index WHERE indexrelid = to_regclass('order_reference_key')")
        return cursor.fetchone()


def duplicate(database, reference_of: int) -> CommandRun:
    """An order whose reference is that of the order filled as number ``reference_of``."""
    return run_sql(database, f"INSERT INTO {demo.ORDERS} (total_cents, quantity, shipping_address, reference) "
                             f"VALUES (100, 1, NULL, md5('{reference_of}'))")


def before_the_unique_step(engine, new_database, rows: int):
    """A new database at release 3's 0004, its ``rows`` orders' totals fixed: the unique step is next."""
    database = at_release_2(engine, new_database, rows, fixed=True)
    assert migrate(demo.RELEASE_3, database, "shop", "0004").ok
    return database


def in_background(work):
    """Start ``work`` in a thread; the function returned waits for it and gives its result."""
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(work()))
    thread.start()
    return lambda: (thread.join(), outcome[0])[1]


def wait_for_phase(database, phase: str) -> None:
    """Until the index build on the orders is in ``phase`` (as pg_stat_progress_create_index names it)."""
    with database.connect() as connection:
        cursor = connection.cursor()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            cursor.execute("SELECT phase FROM pg_stat_progress_create_index WHERE relid = %s::regclass "
                           "AND datname = current_database()",
                           [demo.ORDERS])
            row = cursor.fetchone()
            if row and row[0] == phase:
                return
            time.sleep(0.002)
    raise AssertionError(f"the index build was never seen {phase!r}")


@contextmanager
def snapshot_held(database):
    """A REPEATABLE READ transaction that has read the orders, open until the block ends: a concurrent build waits
    for it before it finishes ("waiting for old snapshots")."""
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        cursor.execute(f"SELECT count(*) FROM {demo.ORDERS} WHERE id = 1")
        yield
        cursor.execute("COMMIT")


def build_meeting_a_duplicate(database, when: str) -> SimpleNamespace:
    """Release 3's unique step, with a duplicate reference written ``when``: "before" the build, "during" its scan of
    the table, or once the index is "ready" (the build held at its end by an open snapshot). What the migration did,
    what the write did, the index's state (ready, valid) and whether a second duplicate is refused afterwards."""
    if when == "before":
        written = duplicate(database, 1)
        run = migrate(demo.RELEASE_3, database)
    elif when == "during":
        result = in_background(lambda: migrate(demo.RELEASE_3, database))
        wait_for_phase(database, "building index: scanning table")
        written = duplicate(database, 1)
        run = result()
    else:
        with snapshot_held(database):
            result = in_background(lambda: migrate(demo.RELEASE_3, database))
            wait_for_phase(database, "waiting for old snapshots")
            written = duplicate(database, 1)
        run = result()
    return SimpleNamespace(run=run, written=written, index=index_state(database), next=duplicate(database, 2))


def test_duplicates_meet_the_unique_build_at_three_moments(postgresql_engine, new_database):
    found = {}
    for when in ("before", "during", "ready"):
        database = before_the_unique_step(postgresql_engine, new_database, BUILD_ROWS)
        found[when] = build_meeting_a_duplicate(database, when)
        found[when].database = database

    def shown(f: SimpleNamespace) -> str:
        return (f"migration: {f.run.error_line() or 'succeeded'}; the duplicate: {f.written.stderr or 'written'}; "
                f"index ready, valid: {f.index}; a second duplicate: {f.next.stderr or 'written'}")

    check("a duplicate written during the build's scan makes the build fail at its end; the INVALID index left "
          "behind refuses the next duplicate", lambda f: f.written.ok and not f.run.ok
          and "order_reference_key" in f.run.stderr and f.index == (True, False) and not f.next.ok
          and "order_reference_key" in f.next.stderr, found["during"],
          contrast="a duplicate already there when the build starts", against=lambda: found["before"],
          observed=shown, guide=GUIDE, engine=postgresql_engine)
    # The contrast, as the guide states it: the build failed in its scan, and its index refuses nothing.
    before = found["before"]
    assert not before.run.ok and before.index == (False, False) and before.next.ok, shown(before)
    check("a duplicate written once the index is ready fails at once, though the migration still runs; the build "
          "then succeeds", lambda f: not f.written.ok and "order_reference_key" in f.written.stderr and f.run.ok
          and f.index == (True, True), found["ready"], contrast="a duplicate written during the scan",
          against=lambda: found["during"], observed=shown, guide=GUIDE, engine=postgresql_engine)
    # Recovery, as the guide gives it: migrate says what to do; drop the index, remove the duplicates, migrate again.
    for when in ("during", "before"):
        database = found[when].database
        stopped = migrate(demo.RELEASE_3, database)
        assert not stopped.ok and "is INVALID" in stopped.stderr, stopped.stderr
        assert ("refuses duplicate writes meanwhile" in stopped.stderr) == (when == "during"), stopped.stderr
        assert run_sql(database, "DROP INDEX CONCURRENTLY order_reference_key").ok
        assert run_sql(database, f"DELETE FROM {demo.ORDERS} WHERE id > {BUILD_ROWS}").ok
        again = migrate(demo.RELEASE_3, database)
        assert again.ok and index_state(database) == (True, True), again.stderr


def test_the_unique_build_waits_whatever_lock_timeout_the_session_sets(postgresql_engine, new_database):
    """The build waits for an open snapshot past the 200 ms lock timeout its session starts with."""
    database = before_the_unique_step(postgresql_engine, new_database, SMALL)
    # Autovacuum, woken by the fill, would hold up the ALTER that attaches the index: it yields only after
    # deadlock_timeout (1 s), past the 200 ms. A table vacuumed after its fill gives it nothing to do.
    assert run_sql(database, f"VACUUM (ANALYZE) {demo.ORDERS}").ok
    timed = database.with_options(options="-c lock_timeout=200")
    with snapshot_held(database):
        result = in_background(lambda: migrate(demo.RELEASE_3, timed))
        wait_for_phase(database, "waiting for old snapshots")
        time.sleep(0.5)  # past the session's timeout
    run = result()

    def plain_build() -> tuple[bool, str]:
        """The same CREATE UNIQUE INDEX CONCURRENTLY run under the session's timeout, the snapshot held as long."""
        other = before_the_unique_step(postgresql_engine, new_database, SMALL)
        with snapshot_held(other), other.connect(options="-c lock_timeout=200") as connection:
            try:
                connection.cursor().execute(f"CREATE UNIQUE INDEX CONCURRENTLY order_reference_key ON {demo.ORDERS} "
                                            "(reference)")
            except Exception as exc:  # the lock timeout, as the contrast expects
                return False, str(exc)
        return True, ""

    check("the unique step waits out an open snapshot although migrate's session has a 200 ms lock timeout, and "
          "then attaches the index", lambda found: found[0], (run.ok, run.stderr), contrast="the same build "
          "statement under that timeout", against=plain_build, observed=lambda found: found[1] or "built",
          guide=GUIDE, engine=postgresql_engine)
    assert index_state(database) == (True, True)


def test_an_index_built_before_is_kept_and_made_the_constraint(postgresql_engine, new_database):
    def over_an_index(release, until: str, on: str = "(reference)") -> tuple[CommandRun, int, int]:
        """``release`` migrated to ``until``, a unique index of the constraint's name built by hand ``on`` (its
        columns and the rest), then the rest migrated: what migrate did, and the index's oid before and after."""
        database = at_release_2(postgresql_engine, new_database, fixed=True)
        assert migrate(release, database, "shop", until).ok
        assert run_sql(database, f"CREATE UNIQUE INDEX CONCURRENTLY order_reference_key ON {demo.ORDERS} {on}").ok

        def oid() -> int | None:
            with database.connect() as connection:
                cursor = connection.cursor()
                cursor.execute("SELECT to_regclass('order_reference_key')::oid::int8")
                return cursor.fetchone()[0]

        built = oid()
        return migrate(release, database), built, oid()

    check("a valid index of the constraint's name, left by an earlier run, is kept and becomes the constraint",
          lambda found: found[0].ok and found[1] == found[2], over_an_index(demo.RELEASE_3, "0004"),
          contrast="the generated AddConstraint(UNIQUE) over the same index",
          against=lambda: over_an_index(demo.GENERATED, "0003"), observed=lambda found: found[0].error_line(),
          guide=GUIDE, engine=postgresql_engine)
    for other in ("(id)", "(reference) WHERE id > 0", "(reference DESC)"):
        stopped = over_an_index(demo.RELEASE_3, "0004", on=other)[0]
        assert not stopped.ok and "is not UNIQUE (reference)" in stopped.stderr, (other, stopped.stderr)


def test_release_3_runs_again_after_a_deploy_died_before_recording_it(postgresql_engine, new_database):
    def again(release) -> CommandRun:
        """Release 3 applied, its records lost (a deploy killed at the wrong moment), then ``release`` migrated."""
        database = at_release_2(postgresql_engine, new_database, fixed=True)
        assert migrate(demo.RELEASE_3, database).ok
        assert run_sql(database, "DELETE FROM django_migrations WHERE app = 'shop' AND name >= '0005'").ok
        return migrate(release, database)

    check("migrating release 3 again after its unique step ran unrecorded succeeds", lambda run: run.ok,
          again(demo.RELEASE_3), contrast="the generated AddConstraint(UNIQUE) migrated again",
          against=lambda: again(demo.GENERATED), observed=CommandRun.error_line, guide=GUIDE,
          engine=postgresql_engine)


def test_validation_refuses_negative_totals_and_runs_again_once_they_are_fixed(postgresql_engine, new_database):
    def migrated(fixed: bool):
        database = at_release_2(postgresql_engine, new_database)
        if fixed:
            assert demo.RELEASE_2.run("fix_negative_totals", database=database).ok
        return database, migrate(demo.RELEASE_3, database)

    database, run = migrated(fixed=False)
    check("the NOT VALID CHECK goes on over negative totals; VALIDATE refuses them, naming the constraint",
          lambda found: not found[1].ok and "order_total_cents_gte_0" in found[1].stderr
          and "Applying shop.0003_order_total_cents_gte_0... OK" in found[1].stdout, (database, run),
          contrast="the totals fixed first", against=lambda: migrated(fixed=True),
          observed=lambda found: found[1].error_line(), guide=GUIDE, engine=postgresql_engine)
    assert validated(database) is False
    check("after the failed validation the constraint stays, NOT VALID, and refuses a negative total and an update "
          "of a row that breaks it", enforced, database, contrast="release 2's schema, without the constraint",
          against=lambda: at_release_2(postgresql_engine, new_database), observed=str, guide=GUIDE,
          engine=postgresql_engine)
    assert demo.RELEASE_2.run("fix_negative_totals", database=database).ok
    fixed = migrate(demo.RELEASE_3, database)
    assert fixed.ok, fixed.stderr


def test_migrating_back_to_0002_drops_the_unvalidated_constraint(postgresql_engine, new_database):
    def after_the_failed_validation(back: bool):
        database = at_release_2(postgresql_engine, new_database)
        assert not migrate(demo.RELEASE_3, database).ok  # the validation fails on release 1's negative totals
        if back:
            assert migrate(demo.RELEASE_3, database, "shop", "0002").ok
        return database

    check("from release 3, migrate shop 0002 drops the constraint left by the failed validation: negative totals "
          "are written again", lambda database: not enforced(database), after_the_failed_validation(back=True),
          contrast="the constraint left in place", against=lambda: after_the_failed_validation(back=False),
          observed=lambda database: f"constraint validated: {validated(database)}", guide=GUIDE,
          engine=postgresql_engine)


SESSION = """
import django
django.setup()
from django.core.management import call_command
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("SET lock_timeout = '250ms'")
{then}
with connection.cursor() as cursor:
    cursor.execute("SHOW lock_timeout")
    print(cursor.fetchone()[0])
"""


def test_the_unique_step_gives_back_the_lock_timeout_the_session_set(postgresql_engine, new_database):
    def lock_timeout_after(then: str) -> str:
        """The session's lock timeout, SET to 250 ms, after ``then`` (Python run in release 3's process)."""
        database = before_the_unique_step(postgresql_engine, new_database, SMALL)
        done = demo.RELEASE_3.run_python(SESSION.format(then=then), database=database, role="migrate")
        assert done.ok, done.stderr
        return done.stdout.strip().splitlines()[-1]

    check("after the unique step, migrate's session has the lock timeout it SET before: the ALTER TABLE and the "
          "migrations after it run under it", lambda found: found == "250ms",
          lock_timeout_after('call_command("migrate", verbosity=0)'),
          contrast="RESET after the SET, which gives the server's default",
          against=lambda: lock_timeout_after('connection.cursor().execute("RESET lock_timeout")'),
          observed=str, guide=GUIDE, engine=postgresql_engine)


def at_release_2(engine, new_database, rows: int = SMALL, *, fixed: bool = False):
    """A new database at release 2's schema with ``rows`` orders; ``fixed``: their negative totals set to 0 in one
    UPDATE (on these small tables), as release 2's command would."""
    database = new_database(engine)
    demo.table(database, [demo.RELEASE_1, demo.RELEASE_2], rows, QUIET)
    if fixed:
        assert run_sql(database, f"UPDATE {demo.ORDERS} SET total_cents = 0 WHERE total_cents < 0").ok
    return database


def validated(database) -> bool | None:
    """Whether the CHECK is validated; None if it is not there."""
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT convalidated FROM pg_constraint WHERE conname = 'order_total_cents_gte_0'")
        row = cursor.fetchone()
    return row[0] if row else None


def enforced(database) -> bool:
    """Whether a negative total is refused, both in a new order and in an update of an old negative row that leaves
    its total alone."""
    insert = run_sql(database, f"INSERT INTO {demo.ORDERS} (total_cents, quantity, reference) VALUES (-1, 1, 'x')")
    update = run_sql(database, f"UPDATE {demo.ORDERS} SET quantity = 2 WHERE id = (SELECT min(id) FROM "
                               f"{demo.ORDERS} WHERE total_cents < 0)")
    return not insert.ok and not update.ok


def test_on_mariadb_a_check_constraint_copies_the_table(mariadb_engine, new_database):
    database = at_release_2(mariadb_engine, new_database)

    def in_place(constraint: str) -> CommandRun:
        return run_sql(database, f"ALTER TABLE {demo.ORDERS} ADD CONSTRAINT {constraint}, ALGORITHM=INPLACE, LOCK=NONE")

    check("MariaDB refuses to add a CHECK in place: it copies the table", lambda run: not run.ok
          and "ALGORITHM=INPLACE is not supported" in run.stderr, in_place("c CHECK (quantity >= 1)"),
          contrast="a UNIQUE constraint, added in place", against=lambda: in_place("u UNIQUE (reference)"),
          observed=lambda run: run.stderr or "accepted", guide=GUIDE, engine=mariadb_engine)


def test_on_mariadb_dropping_not_null_rebuilds_the_table_in_place(mariadb_engine, new_database):
    database = new_database(mariadb_engine)
    demo.table(database, [demo.RELEASE_1], SMALL, QUIET)

    def modify(algorithm: str) -> CommandRun:
        return run_sql(database, f"ALTER TABLE {demo.ORDERS} MODIFY shipping_address longtext NULL, "
                                 f"ALGORITHM={algorithm}, LOCK=NONE")

    refused = [modify("INSTANT"), modify("NOCOPY")]
    in_place = modify("INPLACE")  # after the refusals: once it is done, the column is nullable already
    assert in_place.ok, in_place.stderr
    check("MariaDB cannot drop NOT NULL instantly or without copying the rows: only in place, rebuilding the table",
          lambda runs: all(not run.ok and "not supported" in run.stderr for run in runs), refused,
          contrast="ALGORITHM=INPLACE, LOCK=NONE", against=lambda: [in_place],
          observed=lambda runs: "; ".join(r.stderr or "accepted" for r in runs), guide=GUIDE, engine=mariadb_engine)


@pytest.fixture(scope="module")
def mariadb_deploys(mariadb_engine):
    """The generated CHECK and UNIQUE, each deployed while release 2's real site serves, on MariaDB."""
    database = mariadb_engine.create_database()
    try:
        return demo.steps(database, ["check_generated", "unique_generated"], MARIADB_ROWS, QUIET)
    finally:
        database.drop()


@pytest.mark.measures
def test_on_mariadb_the_check_makes_writes_wait_and_the_unique_does_not(mariadb_deploys, mariadb_engine):
    def writes_wait(r: DeployReport) -> bool:
        running_ms = copy_ms(r, demo.ORDERS)
        # A stall, not the worst latency: on the site a write that waits past nginx's timeout ends as a 504.
        return r.migration.ok and running_ms >= 200 \
            and r.during_migration("write")["longest_stall_ms"] >= 0.5 * running_ms

    check("on MariaDB, AddConstraint(CHECK) stops writes for at least half of the table's copy: none completes",
          writes_wait, mariadb_deploys["check_generated"], contrast="AddConstraint(UNIQUE), built in place",
          against=lambda: mariadb_deploys["unique_generated"], observed=DeployReport.summary, guide=GUIDE,
          engine=mariadb_engine)


@pytest.mark.parametrize("release,app_label,migration", demo.SQL)
def test_sql_shown_in_the_guide_is_what_sqlmigrate_prints(engine, new_database, release, app_label, migration):
    mismatch = evidence.sql_mismatch(GUIDE, release, app_label, migration, new_database(engine))
    assert mismatch is None, mismatch


# Two constraints a team might name after what they check, in full; Django accepts both names as they are.
LONG_NAMES = {
    "same_prefix": ["order_total_cents_must_be_zero_or_more_for_every_order_in_the_shop_online",
                    "order_total_cents_must_be_zero_or_more_for_every_order_in_the_shop_by_phone"],
    "short": ["order_total_online_gte_0", "order_total_phone_gte_0"],
}
ADD_TWO_CHECKS = """
import sys
import django; django.setup()
from django.apps import apps
from django.core.management import call_command
from django.db import connection, models
call_command("check")  # Django raises no error for a constraint name over 63 bytes
Order = apps.get_model("shop", "Order")
for name in sys.argv[1:]:
    with connection.schema_editor() as editor:
        editor.add_constraint(Order, models.CheckConstraint(condition=models.Q(total_cents__gte=-10**9), name=name))
    print("added", name)
"""


def test_postgresql_cuts_constraint_names_at_63_bytes_so_two_long_names_collide(postgresql_engine, new_database):
    def added(kind: str) -> CommandRun:
        database = new_database(postgresql_engine)
        demo.table(database, [demo.RELEASE_1], 100, QUIET)
        return demo.RELEASE_1.run_python(ADD_TWO_CHECKS, *LONG_NAMES[kind], database=database)

    assert LONG_NAMES["same_prefix"][0][:63] == LONG_NAMES["same_prefix"][1][:63]
    check("two constraint names that share their first 63 bytes: Django's check passes them, PostgreSQL cuts both "
          "to the same name, and the second AddConstraint fails",
          lambda run: not run.ok and run.stdout.count("added") == 1 and "already exists" in run.stderr,
          added("same_prefix"), contrast="two names under 63 bytes", against=lambda: added("short"),
          observed=lambda run: run.stdout + run.error_line(), guide=GUIDE, engine=postgresql_engine)
