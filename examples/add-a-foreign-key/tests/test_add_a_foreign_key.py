"""The claims of guides/add-a-foreign-key.md, checked on real engines."""

import time

import pytest

from lab import evidence, verbs
from lab.claims import check
from lab.copy_span import copy_ms
from lab.deploy import DeployReport, OpenTransaction, migrate, run_sql
from lab.engines import sqlite_engine
from lab.releases import REPO, CommandRun, example_module, releases
from lab.site_verbs import SiteDeployReport, deploy_on_site
from lab.story import Story

demo = example_module("add-a-foreign-key", "demonstration")
GUIDE = demo.SLUG
LARGE = 1_000_000  # where a scan of the orders shows, and the generated migration's index build lasts
ROWS = 500_000  # the steps' table: enough rows for the index build and the validation to take a while
QUIET = Story(quiet=True)


@pytest.fixture(scope="module")
def deploys(postgresql_engine):
    """On the real site: the generated migration, the same without its index, and the four steps one after the
    other (one site serving through all four), once per PostgreSQL."""
    found = {}
    for label, release in (("unsafe", demo.UNSAFE), ("without_index", demo.WITHOUT_INDEX), ("steps", None)):
        database = postgresql_engine.create_database()
        try:
            # The generated migration on the large table, where its index build lasts long enough to see who waits.
            rows = LARGE if label == "unsafe" else ROWS
            demo.tables(database, rows, QUIET)
            if release:
                found[label] = demo.deploy(database, release, QUIET)
            else:
                found.update(demo.steps(database, rows, QUIET))
        finally:
            database.drop()
    return found


def referenced_modes(report: DeployReport) -> set[str]:
    return {span.mode for span in report.locks.held("migrate", demo.CUSTOMERS)}


@pytest.mark.parametrize("release", releases(GUIDE), ids=lambda r: r.name)
def test_makemigrations_check_is_clean_at_every_release(release, new_database):
    result = release.run("makemigrations", "--check", "--dry-run", database=new_database(sqlite_engine()))
    assert result.ok, f"{release.name}: models and migrations differ:\n{result.stdout}{result.stderr}"


@pytest.mark.measures
def test_the_generated_migration_stops_inserts_into_the_referenced_table(deploys, postgresql_engine):
    def everyone_waits(r: DeployReport) -> bool:
        held = r.locks.longest([s for s in r.locks.held("migrate", demo.CUSTOMERS) if s.mode == "SHARE ROW EXCLUSIVE"])
        return held >= 50 and demo.customer_writes_worst_ms(r) >= 0.5 * held \
            and demo.worst_ms(r, ("list_recent_orders", "take_an_order")) >= 0.5 * held

    check("AddField(ForeignKey) holds SHARE ROW EXCLUSIVE on the referenced table through its index build: writes "
          "to that table wait for it, and requests on the orders too", everyone_waits, deploys["unsafe"],
          contrast="the same field with db_index=False", against=lambda: deploys["without_index"],
          observed=lambda r: f"writes to customers waited {demo.customer_writes_worst_ms(r)} ms\n{r.summary()}", guide=GUIDE,
          engine=postgresql_engine)
    assert not deploys["unsafe"].failures, deploys["unsafe"].summary()


@pytest.mark.measures
@pytest.mark.parametrize("label", ["without_index", *demo.STEPS])
def test_no_step_makes_a_request_wait_for_a_lock_on_either_table(deploys, postgresql_engine, label):
    def no_lock_waits(r: DeployReport) -> bool:
        return r.migration.ok and r.longest_site_wait_ms() < 50

    check(f"step {demo.OPERATIONS[label]!r}: no read or write waits 50 ms for a lock, on either table",
          no_lock_waits, deploys[label], contrast="the generated migration", against=lambda: deploys["unsafe"],
          observed=lambda r: f"longest lock wait {r.longest_site_wait_ms():.0f} ms\n{r.summary()}", guide=GUIDE,
          engine=postgresql_engine)
    assert not deploys[label].failures, deploys[label].summary()


@pytest.mark.measures
def test_validation_takes_no_lock_that_stops_writes_on_either_table(deploys, postgresql_engine):
    blocks_writes = {"SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"}

    def harmless(r: DeployReport) -> bool:
        on_orders = {s.mode for s in r.locks.held("migrate", demo.ORDERS)}
        return "SHARE UPDATE EXCLUSIVE" in on_orders and "ROW SHARE" in referenced_modes(r) \
            and not (on_orders | referenced_modes(r)) & blocks_writes

    check("VALIDATE CONSTRAINT takes SHARE UPDATE EXCLUSIVE on the table and nothing that stops writes on either",
          harmless, deploys["validate"], contrast="the generated migration", against=lambda: deploys["unsafe"],
          observed=lambda r: r.locks.summary(), guide=GUIDE, engine=postgresql_engine)


def _validated(database) -> bool | None:
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT convalidated FROM pg_constraint WHERE conname = 'order_customer_fk'")
        row = cursor.fetchone()
    return row[0] if row else None


@pytest.mark.measures
def test_a_new_columns_foreign_key_checks_no_row(postgresql_engine, new_database):
    database = new_database(postgresql_engine)
    demo.tables(database, LARGE, QUIET)
    references = f"REFERENCES {demo.CUSTOMERS} (id) DEFERRABLE INITIALLY DEFERRED"

    def ms(*statements: str) -> float:
        """How long the last statement took, in a transaction that is rolled back."""
        with database.connect() as connection:
            cursor = connection.cursor()
            cursor.execute("BEGIN")
            for statement in statements[:-1]:
                cursor.execute(statement)
            started = time.perf_counter()
            cursor.execute(statements[-1])
            took = (time.perf_counter() - started) * 1000
            cursor.execute("ROLLBACK")
        return took

    check(f"a foreign key added with its new column checks no row: under 20 ms at {LARGE:,} orders",
          lambda took: took < 20, ms(f"ALTER TABLE {demo.ORDERS} ADD COLUMN customer_id bigint NULL {references}"),
          contrast="the same constraint added to the column once it exists (all NULL)",
          against=lambda: ms(f"ALTER TABLE {demo.ORDERS} ADD COLUMN customer_id bigint NULL",
                             f"ALTER TABLE {demo.ORDERS} ADD CONSTRAINT order_customer_fk FOREIGN KEY (customer_id) "
                             f"{references}"),
          observed=lambda took: f"{took:.1f} ms", guide=GUIDE, engine=postgresql_engine)


def test_an_invalid_index_left_by_a_failed_build_stops_step_2_with_a_message(postgresql_engine, new_database):
    database = new_database(postgresql_engine)
    demo.tables(database, 1_000, QUIET)
    assert migrate(demo.RELEASE_2, database, "shop", "0002").ok
    # A unique build over duplicate values fails and leaves an INVALID index of the name step 2 uses.
    failed = run_sql(database, f"CREATE UNIQUE INDEX CONCURRENTLY order_customer_idx ON {demo.ORDERS} ((total_cents % 2))")
    assert not failed.ok
    stopped = migrate(demo.RELEASE_2, database)
    assert not stopped.ok and 'index "order_customer_idx" exists but is INVALID' in stopped.stderr, stopped.stderr
    assert run_sql(database, "DROP INDEX CONCURRENTLY order_customer_idx").ok
    again = migrate(demo.RELEASE_2, database)
    assert again.ok and _validated(database) is True, again.stderr


# Release 2 migrated by the lock-timeout guide's wrapper, as this guide tells teams to deploy; with ``contrib``, its
# index step as Django's own AddIndexConcurrently, which lifts no timeout. Prints the session's timeouts after.
WRAPPER = REPO / "examples/lock-timeout-and-retries/release_2/management/commands/migrate_with_retries.py"
MIGRATE_WITH_RETRIES = f"""
import importlib.util, sys
import django; django.setup()
if sys.argv[1:] == ["contrib"]:
    from django.contrib.postgres.operations import AddIndexConcurrently
    import release_2.operations
    release_2.operations.AddIndexConcurrentlyOnPostgreSQL = AddIndexConcurrently
spec = importlib.util.spec_from_file_location("migrate_with_retries", {str(WRAPPER)!r})
wrapper = importlib.util.module_from_spec(spec); spec.loader.exec_module(wrapper)
from django.core.management import call_command
from django.db import connection
call_command(wrapper.Command(), "--lock-timeout", "300", "--pause", "0.2", "--attempts", "5")
with connection.cursor() as cursor:
    cursor.execute("SELECT current_setting('lock_timeout'), current_setting('statement_timeout')")
    print(*cursor.fetchone())
"""


def test_the_steps_deploy_under_the_retry_wrapper_while_an_old_snapshot_is_open(postgresql_engine, new_database):
    def deployed(*variant: str):
        database = new_database(postgresql_engine)
        demo.tables(database, 1_000, QUIET)
        # A report's snapshot, open 1.5 s: the concurrent build waits for it, past the wrapper's 300 ms lock timeout.
        with OpenTransaction(database, demo.CUSTOMERS, seconds=1.5, isolation="REPEATABLE READ"):
            run = demo.RELEASE_2.run_python(MIGRATE_WITH_RETRIES, *variant, database=database.with_options(
                options="-c statement_timeout=1min"))
        return run, _validated(database)

    check("migrate_with_retries (300 ms lock timeout) applies every step while a snapshot is open 1.5 s: the index "
          "build waits instead of failing, the constraint ends validated, and the session's timeouts are back",
          # The wrapper puts back the session's lock timeout (none); the build step, its statement timeout.
          lambda found: found[0].ok and found[1] is True and found[0].stdout.split()[-2:] == ["0", "1min"],
          deployed(), contrast="the same with step 2 as Django's AddIndexConcurrently, which lifts no timeout",
          against=lambda: deployed("contrib"), observed=lambda found: found[0].stdout[-300:] + found[0].stderr[-600:],
          guide=GUIDE, engine=postgresql_engine)


def test_step_1_refuses_a_leftover_column_of_another_type(postgresql_engine, new_database):
    def migrated(column_type: str):
        database = new_database(postgresql_engine)
        demo.tables(database, 1_000, QUIET)
        # What an earlier attempt may have left: a column of that name, of some type.
        assert run_sql(database, f"ALTER TABLE {demo.ORDERS} ADD COLUMN customer_id {column_type} NULL").ok
        return migrate(demo.RELEASE_2, database, "shop", "0002")

    check("step 1 refuses a customer_id column of another type left by an earlier attempt, naming it",
          lambda run: not run.ok and 'column "customer_id" of shop_order exists already as integer' in run.stderr,
          migrated("integer"), contrast="a leftover nullable bigint column, this very step's",
          against=lambda: migrated("bigint"), observed=lambda run: run.error_line(), guide=GUIDE,
          engine=postgresql_engine)


def test_step_2_refuses_an_index_of_its_name_with_another_definition(postgresql_engine, new_database):
    def migrated(columns: str):
        database = new_database(postgresql_engine)
        demo.tables(database, 1_000, QUIET)
        assert migrate(demo.RELEASE_2, database, "shop", "0002").ok
        # A valid index of the step's name left by an earlier attempt, on whatever it was built on then.
        assert run_sql(database, f"CREATE INDEX order_customer_idx ON {demo.ORDERS} ({columns})").ok
        return migrate(demo.RELEASE_2, database, "shop", "0003")

    check("step 2 refuses a valid index of its name built on other columns, instead of taking it for its own",
          lambda run: not run.ok and "is not the index on (customer)" in run.stderr, migrated("total_cents"),
          contrast="a valid index of that name on customer_id, which a killed deploy's build finished",
          against=lambda: migrated("customer_id"), observed=lambda run: run.error_line(), guide=GUIDE,
          engine=postgresql_engine)


def test_the_steps_run_again_after_a_deploy_died_before_recording_them(postgresql_engine, new_database):
    def again(release) -> tuple[CommandRun, bool | None]:
        """Release 2 applied, its records lost (a deploy killed at the wrong moment), then ``release`` migrated."""
        database = new_database(postgresql_engine)
        demo.tables(database, 1_000, QUIET)
        assert migrate(demo.RELEASE_2, database).ok
        assert run_sql(database, "DELETE FROM django_migrations WHERE app = 'shop' AND name >= '0002'").ok
        return migrate(release, database), _validated(database)

    check("migrating release 2 again after its SQL ran unrecorded succeeds, and the constraint stays validated",
          lambda found: found[0].ok and found[1] is True, again(demo.RELEASE_2),
          contrast="Django's own AddField(ForeignKey) migrated again", against=lambda: again(demo.UNSAFE),
          observed=lambda found: found[0].error_line(), guide=GUIDE, engine=postgresql_engine)


def test_validation_refuses_an_order_without_its_customer_and_runs_again_once_fixed(postgresql_engine,
                                                                                     new_database):
    def validated(broken: bool):
        database = new_database(postgresql_engine)
        demo.tables(database, 1_000, QUIET)
        assert migrate(demo.RELEASE_2, database, "shop", "0003").ok
        # Written before the constraint exists, which NOT VALID then lets be: an order pointing at no customer.
        assert run_sql(database, f"UPDATE {demo.ORDERS} SET customer_id = {999_999 if broken else 1} WHERE id = 1").ok
        return database, migrate(demo.RELEASE_2, database)

    database, failed = validated(broken=True)
    check("the NOT VALID constraint is added over an order whose customer does not exist; VALIDATE refuses it",
          lambda found: not found[1].ok and "order_customer_fk" in found[1].stderr
          and "Applying shop.0004_order_customer_fk... OK" in found[1].stdout, (database, failed),
          contrast="the same rows with every customer present", against=lambda: validated(broken=False),
          observed=lambda found: found[1].error_line(), guide=GUIDE, engine=postgresql_engine)
    assert run_sql(database, f"UPDATE {demo.ORDERS} SET customer_id = NULL WHERE id = 1").ok
    fixed = migrate(demo.RELEASE_2, database)
    assert fixed.ok and _validated(database) is True, fixed.stderr


def test_every_release_serves_without_a_failed_request(engine, new_database):
    database = new_database(engine)
    demo.tables(database, 1_000, QUIET)

    def deployed(migrate_with=None) -> DeployReport:
        # In-process: a smoke test of release 2's code and migrations on every engine, not a measurement.
        return verbs.deploy(database, demo.RELEASE_1, demo.RELEASE_2, QUIET, [demo.ORDERS, demo.CUSTOMERS],
                            migrate_with=migrate_with)

    # On PostgreSQL each of release 2's steps on its own; elsewhere release 2 in one deploy.
    reports = ([deployed(demo.migrate_step(database, label)) for label in demo.STEPS]
               if engine.vendor == "postgresql" else [deployed()])
    for report in reports:
        assert report.migration.ok and not report.failures, report.summary()


IN_PLACE = (f"ALTER TABLE {demo.ORDERS} ADD COLUMN customer_id bigint NULL, ADD CONSTRAINT order_customer_fk "
            f"FOREIGN KEY (customer_id) REFERENCES {demo.CUSTOMERS} (id), ALGORITHM=INPLACE, LOCK=NONE")


def test_on_mariadb_a_foreign_key_is_added_in_place_only_with_checks_off(mariadb_engine, new_database):
    def in_place(checks: str) -> CommandRun:
        database = new_database(mariadb_engine)
        demo.tables(database, 1_000, QUIET)
        return run_sql(database, f"SET SESSION foreign_key_checks = {checks}", IN_PLACE)

    check("MariaDB refuses to add a foreign key in place with foreign_key_checks on (it must copy the table)",
          lambda run: not run.ok and "foreign_key_checks" in run.stderr, in_place("ON"),
          contrast="the same with foreign_key_checks off", against=lambda: in_place("OFF"),
          observed=lambda run: run.stderr or "accepted", guide=GUIDE, engine=mariadb_engine)


@pytest.mark.measures
def test_on_mariadb_the_generated_migration_makes_writes_wait_and_in_place_does_not(mariadb_engine, new_database):
    def deployed(checks: bool) -> DeployReport:
        database = new_database(mariadb_engine)
        demo.tables(database, ROWS, QUIET)
        if checks:
            return demo.deploy(database, demo.UNSAFE, QUIET)
        return deploy_on_site(database, demo.RELEASE_1, demo.UNSAFE, QUIET, [demo.ORDERS, demo.CUSTOMERS],
                              migrate_with=lambda: run_sql(database, "SET SESSION foreign_key_checks = OFF",
                                                           IN_PLACE))

    def writes_wait(r: DeployReport) -> bool:
        # A stall, not the worst latency: on the site a write that waits past nginx's timeout ends as a 504.
        copying = copy_ms(r, demo.ORDERS)
        return r.migration.ok and copying >= 200 and r.during_migration("write")["longest_stall_ms"] >= 0.5 * copying

    def nobody_waits(r: SiteDeployReport) -> bool:
        # Lock waits, not latencies: on a loaded machine the site's own queue, not the schema change, sets those.
        return r.migration.ok and not r.failures and r.longest_site_wait_ms() < 100

    in_place, generated = deployed(False), deployed(True)
    check("on MariaDB, AddField(ForeignKey) stops writes for at least half of the table's copy: none completes",
          writes_wait, generated, contrast="the column and constraint added in place, foreign_key_checks off",
          against=lambda: in_place, observed=DeployReport.summary, guide=GUIDE, engine=mariadb_engine)
    check("on MariaDB, with foreign_key_checks off, the column and constraint go in place: no request fails and "
          "none waits 100 ms for a lock", nobody_waits, in_place,
          contrast="AddField(ForeignKey) as makemigrations wrote it", against=lambda: generated,
          observed=lambda r: f"longest lock wait {r.longest_site_wait_ms():.0f} ms\n{r.summary()}", guide=GUIDE,
          engine=mariadb_engine)


@pytest.mark.parametrize("release,app_label,migration", demo.SQL)
def test_sql_shown_in_the_guide_is_what_sqlmigrate_prints(engine, new_database, release, app_label, migration):
    mismatch = evidence.sql_mismatch(GUIDE, release, app_label, migration, new_database(engine))
    assert mismatch is None, mismatch
