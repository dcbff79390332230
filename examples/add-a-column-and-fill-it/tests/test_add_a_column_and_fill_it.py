"""The claims of guides/add-a-column-and-fill-it.md, checked on real engines."""

import signal

import pytest

from lab import evidence
from lab.claims import check
from lab.engines import sqlite_engine
from lab.releases import example_module, releases
from lab.story import Story

demo = example_module("add-a-column-and-fill-it", "demonstration")
GUIDE = demo.SLUG
SMALL, LARGE = 10_000, 1_000_000  # the two sizes the guide compares
TIGHTEN_ROWS = 400_000  # enough for SET NOT NULL's own scan to show
FILL_ROWS = 200_000
QUIET = Story(quiet=True)


def added(engine, release, rows):
    database = engine.create_database()
    try:
        demo.customers_table(database, rows, QUIET)
        return demo.deploy(database, demo.RELEASE_1, release, QUIET)
    finally:
        database.drop()


@pytest.fixture(scope="module")
def additions(postgresql_engine):
    """Each way of adding the column, deployed at both sizes, once per PostgreSQL engine."""
    return {
        (name, rows): added(postgresql_engine, release, rows)
        for name, release in (("nullable", demo.NULLABLE), ("db_default", demo.DB_DEFAULT), ("volatile", demo.VOLATILE))
        for rows in (SMALL, LARGE)
    }


def exclusive_ms(report) -> float:
    """The longest the migration held ACCESS EXCLUSIVE (the lock that stops reads and writes)."""
    held = report.locks.held("migrate", demo.TABLE)
    return report.locks.longest([span for span in held if span.mode == "AccessExclusiveLock"])


@pytest.mark.parametrize("release", releases(GUIDE), ids=lambda r: r.name)
def test_makemigrations_check_is_clean_at_every_release(release, new_database):
    result = release.run("makemigrations", "--check", "--dry-run", database=new_database(sqlite_engine()))
    assert result.ok, f"{release.name}: models and migrations differ:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("name", ["nullable", "db_default"])
def test_adding_a_nullable_or_constant_default_column_is_quick_at_any_size(additions, postgresql_engine, name):
    small, large = additions[(name, SMALL)], additions[(name, LARGE)]
    assert small.migration.ok and large.migration.ok, large.migration.stderr
    check(exclusive_ms(large) <= 50 and large.old_during_migration() <= 100, guide=GUIDE,
          claim=f"adding a {name} column locks the table for milliseconds, even at {LARGE:,} rows",
          engine=postgresql_engine,
          observed=f"{SMALL:,} rows: {exclusive_ms(small):.0f} ms; {LARGE:,} rows: {exclusive_ms(large):.0f} ms\n"
                   f"{large.summary()}")
    assert not large.failures, large.summary()


def test_a_volatile_default_rewrites_the_table_under_lock(additions, postgresql_engine):
    small, large = additions[("volatile", SMALL)], additions[("volatile", LARGE)]
    check(exclusive_ms(large) >= 100 and exclusive_ms(large) >= 5 * max(exclusive_ms(small), 1), guide=GUIDE,
          claim="a volatile default rewrites every row, and the lock grows with the table",
          engine=postgresql_engine,
          observed=f"{SMALL:,} rows: {exclusive_ms(small):.0f} ms; {LARGE:,} rows: {exclusive_ms(large):.0f} ms")
    check(large.old_during_migration() >= 0.5 * exclusive_ms(large), guide=GUIDE,
          claim="requests wait for the whole rewrite", engine=postgresql_engine, observed=large.summary())


def test_django_default_alone_breaks_the_old_codes_inserts_and_db_default_fixes_it(engine, new_database):
    database = new_database(engine)
    demo.customers_table(database, 1_000, QUIET)
    broken = demo.deploy(database, demo.RELEASE_1, demo.DEFAULT_ONLY, QUIET)
    check(bool(broken.old.errors) and "loyalty_points" in " ".join(broken.old.errors), guide=GUIDE,
          claim="with default= alone the database has no default, so release 1's inserts fail",
          engine=engine, observed=broken.summary())
    database = new_database(engine)
    demo.customers_table(database, 1_000, QUIET)
    fixed = demo.deploy(database, demo.RELEASE_1, demo.DB_DEFAULT, QUIET)
    check(not fixed.failures, guide=GUIDE, claim="with db_default, release 1's inserts get the default",
          engine=engine, observed=fixed.summary())


def test_fill_command_resumes_after_being_killed_and_is_idempotent(engine, new_database):
    database = new_database(engine)
    demo.customers_table(database, FILL_ROWS, QUIET, release=demo.NULLABLE)
    command = demo.NULLABLE.start("fill_loyalty_points", "--batch-size", "1000", "--pause", "0.01",
                                  database=database, role="fill")
    progress = [command.stdout.readline() for _ in range(3)]
    command.send_signal(signal.SIGKILL)
    command.wait(timeout=30)
    assert all(line.startswith(("filled", "200,000")) for line in progress), progress
    left = _empty(database)
    assert 0 < left < FILL_ROWS, f"the kill should land half-way; {left:,} rows left empty"

    resumed = demo.NULLABLE.run("fill_loyalty_points", "--batch-size", "5000", database=database)
    assert resumed.ok and f"{left:,} customers to fill" in resumed.stdout, resumed.stdout + resumed.stderr
    assert _empty(database) == 0
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute(f"SELECT spent_cents, loyalty_points FROM {demo.TABLE}")
        wrong = [row for row in cursor.fetchall() if row[1] != row[0] // 100]
    assert not wrong, f"{len(wrong)} rows do not hold a point per euro spent, e.g. {wrong[:3]}"
    again = demo.NULLABLE.run("fill_loyalty_points", database=database)
    assert again.ok and "0 customers to fill" in again.stdout, again.stdout


def _empty(database) -> int:
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute(f"SELECT COUNT(*) FROM {demo.TABLE} WHERE loyalty_points IS NULL")
        return cursor.fetchone()[0]


@pytest.fixture(scope="module")
def fills(postgresql_engine):
    """The batched command and the single UPDATE, each while release 2 serves, on the same size of table."""
    runs = {}
    for name, step in (("command", demo.fill_with_command), ("update", demo.fill_with_one_update)):
        database = postgresql_engine.create_database()
        try:
            demo.customers_table(database, FILL_ROWS, QUIET, release=demo.NULLABLE)
            runs[name] = step(database, QUIET)
            runs[name + "_left"] = _empty(database)
        finally:
            database.drop()
    return runs


def test_batched_fill_keeps_writers_flowing_unlike_one_update(fills, postgresql_engine):
    command, update = fills["command"], fills["update"]
    assert command.migration.ok and update.migration.ok, command.migration.stderr + update.migration.stderr
    assert fills["command_left"] == 0 and fills["update_left"] == 0
    command_wait, update_wait = command.old_during_migration("write"), update.old_during_migration("write")
    check(update_wait >= 0.5 * update.migration.seconds * 1000, guide=GUIDE,
          claim="during one big UPDATE, a write to a row it touched waits until the UPDATE commits",
          engine=postgresql_engine, observed=update.summary())
    check(command_wait <= update_wait / 3 and not command.failures, guide=GUIDE,
          claim="the batched fill keeps writers' worst wait a fraction of the single UPDATE's",
          engine=postgresql_engine, observed=f"batched {command_wait:.0f} ms, one UPDATE {update_wait:.0f} ms")


@pytest.fixture(scope="module")
def tightenings(postgresql_engine):
    """NOT NULL both ways, each deployed while release 2 serves, on a filled table."""
    runs = {}
    for name, release in (("steps", demo.TIGHTEN), ("plain", demo.TIGHTEN_PLAIN)):
        database = postgresql_engine.create_database()
        try:
            demo.customers_table(database, TIGHTEN_ROWS, QUIET, release=demo.NULLABLE)
            demo.NULLABLE.run("fill_loyalty_points", "--batch-size", "50000", database=database)
            runs[name] = demo.deploy(database, demo.NULLABLE, release, QUIET)
            runs[name + "_nullable"] = _is_nullable(database)
        finally:
            database.drop()
    return runs


def _is_nullable(database) -> bool:
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT is_nullable FROM information_schema.columns WHERE table_name = %s AND column_name = %s",
                       (demo.TABLE, demo.COLUMN))
        return cursor.fetchone()[0] == "YES"


def test_not_null_in_steps_holds_the_exclusive_lock_only_briefly(tightenings, postgresql_engine):
    steps, plain = tightenings["steps"], tightenings["plain"]
    assert steps.migration.ok and plain.migration.ok, steps.migration.stderr + plain.migration.stderr
    assert not tightenings["steps_nullable"] and not tightenings["plain_nullable"]
    modes = steps.locks.modes("migrate", demo.TABLE)
    check("ShareUpdateExclusiveLock" in modes, guide=GUIDE,
          claim="VALIDATE CONSTRAINT scans under SHARE UPDATE EXCLUSIVE, which lets reads and writes through",
          engine=postgresql_engine, observed=steps.locks.summary())
    check(exclusive_ms(steps) <= exclusive_ms(plain) / 3, guide=GUIDE,
          claim="with a validated CHECK, SET NOT NULL skips its scan: ACCESS EXCLUSIVE only briefly",
          engine=postgresql_engine,
          observed=f"steps {exclusive_ms(steps):.0f} ms, plain SET NOT NULL {exclusive_ms(plain):.0f} ms")
    assert not steps.failures, steps.summary()


def test_every_step_deploys_without_a_failed_request(other_engine, new_database):
    """PostgreSQL's tests above check each step; here, the same steps on the other engines."""
    engine = other_engine
    database = new_database(engine)
    demo.customers_table(database, 5_000, QUIET)
    add = demo.deploy(database, demo.RELEASE_1, demo.NULLABLE, QUIET)
    fill = demo.fill_with_command(database, QUIET)
    tighten = demo.deploy(database, demo.NULLABLE, demo.TIGHTEN, QUIET)
    for step in (add, fill, tighten):
        check(step.migration.ok and not step.failures, guide=GUIDE,
              claim="adding, filling and tightening the column fail no request", engine=engine, observed=step.summary())
    assert _empty(database) == 0


@pytest.mark.parametrize(("release", "app_label", "migration"), demo.SQL)
def test_sql_shown_in_the_guide_is_what_sqlmigrate_prints(engine, new_database, release, app_label, migration):
    if reason := evidence.sql_from_other_django(GUIDE):
        pytest.skip(reason)
    problem = evidence.sql_mismatch(GUIDE, release, app_label, migration, new_database(engine))
    assert problem is None, problem
