"""The claims of guides/change-a-column-type.md, checked on real engines."""

import re
import threading
import time

import pytest

from lab import evidence
from lab.claims import check
from lab.copy_span import copy_ms
from lab.deploy import DeployReport, OpenTransaction, migrate, run_sql
from lab.engines import sqlite_engine
from lab.releases import CommandRun, example_module, releases
from lab.story import Story

demo = example_module("change-a-column-type", "demonstration")
GUIDE = demo.SLUG
ROWS = 1_000_000  # the generated changes: a rewrite long enough for every request to wait visibly
RECIPE_ROWS = 200_000  # the recipe's steps wait for no lock at any size; its copy takes a second here
MARIADB_ROWS = 300_000  # MariaDB fills slowly; its copies of the table last long enough at this size
SMALL = 1_000  # where only outcomes are checked
INT_MAX = 2_147_483_647
QUIET = Story(quiet=True)


def failed(r: DeployReport) -> int:
    return sum(r.old.errors.values()) + sum(r.new.errors.values())


# Modes that stop writes (ACCESS EXCLUSIVE stops reads too); SHARE UPDATE EXCLUSIVE and weaker stop neither.
STOPS_WRITES = {"SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"}
BRIEF_MS = 100  # a lock held for less is "a moment": the rewrites hold theirs for about a second


def longest_stopping_hold_ms(r: DeployReport) -> float:
    """The longest the migration was seen holding a lock that stops writes on the products, in ms."""
    return r.locks.longest([s for s in r.locks.held("migrate", demo.PRODUCTS) if s.mode in STOPS_WRITES])


def brief(r: DeployReport) -> bool:
    """The migration succeeded, failed no request, and held no lock that stops writes for BRIEF_MS."""
    return r.migration.ok and failed(r) == 0 and longest_stopping_hold_ms(r) < BRIEF_MS


def held(r: DeployReport) -> str:
    return f"longest hold of a lock that stops writes {longest_stopping_hold_ms(r):.0f} ms\n{r.summary()}"


@pytest.mark.parametrize("release", releases(GUIDE), ids=lambda r: r.name)
def test_makemigrations_check_is_clean_at_every_release(release, new_database):
    result = release.run("makemigrations", "--check", "--dry-run", database=new_database(sqlite_engine()))
    assert result.ok, f"{release.name}: models and migrations differ:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("release,app_label,migration", demo.SQL)
def test_sql_shown_in_the_guide_is_what_sqlmigrate_prints(engine, new_database, release, app_label, migration):
    mismatch = evidence.sql_mismatch(GUIDE, release, app_label, migration, new_database(engine))
    assert mismatch is None, mismatch


# The generated changes and the recipe, deployed under load on PostgreSQL.

@pytest.fixture(scope="module")
def generated(postgresql_engine):
    """The three generated changes, each deployed while release 1's real site serves, on ROWS products."""
    yield from generated_on(postgresql_engine, ROWS)


def generated_on(engine, rows: int):
    """The generated changes on ``engine``, each on a new database of ``rows`` products, dropped afterwards."""
    made = []

    def new_database():
        made.append(engine.create_database())
        return made[-1]

    try:
        yield demo.generated(new_database, rows, QUIET)
    finally:
        for database in made:
            database.drop()


@pytest.fixture(scope="module")
def recipe(postgresql_engine):
    """The recipe's six steps, the site serving, on RECIPE_ROWS products."""
    database = postgresql_engine.create_database()
    try:
        return demo.recipe(database, RECIPE_ROWS, QUIET)
    finally:
        database.drop()


def stops_everyone(r: DeployReport) -> bool:
    """The migration held ACCESS EXCLUSIVE for 100 ms or more, and neither a read nor a write completed for half of
    it: a stall, not the worst latency, because on the site a request that waits past nginx's timeout ends as a
    504."""
    held = r.locks.longest([s for s in r.locks.held("migrate", demo.PRODUCTS) if s.mode == "ACCESS EXCLUSIVE"])
    return r.migration.ok and held >= 100 and r.during_migration("read")["longest_stall_ms"] >= 0.5 * held \
        and r.during_migration("write")["longest_stall_ms"] >= 0.5 * held


@pytest.mark.measures
@pytest.mark.parametrize("label", ["shorter", "bigint_generated"])
def test_a_shorter_varchar_or_a_new_type_stops_reads_and_writes(generated, postgresql_engine, label):
    check(f"{demo.OPERATIONS[label]} holds ACCESS EXCLUSIVE while it rewrites the table: reads and writes wait for it",
          stops_everyone, generated[label], contrast=demo.OPERATIONS["longer"], against=lambda: generated["longer"],
          observed=DeployReport.summary, guide=GUIDE, engine=postgresql_engine)


@pytest.mark.measures
def test_a_longer_varchar_holds_its_lock_a_moment(generated, postgresql_engine):
    check(f"varchar(50) → varchar(60) changes the catalog only: it holds ACCESS EXCLUSIVE less than {BRIEF_MS} ms "
          "and fails no request", brief, generated["longer"], contrast=demo.OPERATIONS["shorter"],
          against=lambda: generated["shorter"], observed=held, guide=GUIDE, engine=postgresql_engine)


@pytest.mark.measures
@pytest.mark.parametrize("label", ["expand", "index", "not_null_not_valid", "validate", "swap"])
def test_no_step_of_the_recipe_fails_a_request_or_holds_a_lock_that_stops_writes(recipe, generated,
                                                                                 postgresql_engine, label):
    check(f"step {demo.OPERATIONS[label]!r}: no request fails, and no lock that stops writes is held {BRIEF_MS} ms",
          brief, recipe[label], contrast=demo.OPERATIONS["bigint_generated"],
          against=lambda: generated["bigint_generated"], observed=held, guide=GUIDE, engine=postgresql_engine)


@pytest.mark.measures
def test_the_copy_makes_writes_wait_for_one_batch_at_most(recipe, postgresql_engine, new_database):
    def copied_in_one_batch() -> DeployReport:
        database = at_release_2(postgresql_engine, new_database, RECIPE_ROWS)
        return demo.copy(database, QUIET, "--batch-size", str(RECIPE_ROWS))

    # A write waits for the batch that holds its row, at most: bound it by the command's mean batch time (its time,
    # vacuum included, over the batches it reported), with room for a busy machine's scheduling. The same bound for
    # the contrast.
    copy = recipe["copy"]
    batches = len(re.findall(r"^ids [\d,]+-[\d,]+ of", copy.migration.stdout, re.MULTILINE))
    bound_ms = 3 * copy.migration.seconds * 1000 / max(batches, 1) + 100
    check("copy_views_to_bigint, in batches of 5,000 ids, fails no request, and no write waits much longer than one "
          "batch (three times the copy's mean batch, plus 100 ms)",
          lambda r: r.migration.ok and failed(r) == 0 and r.during_migration("write")["max"] < bound_ms,
          copy, contrast="the same copy in one batch", against=copied_in_one_batch,
          observed=lambda r: f"bound {bound_ms:.0f} ms\n{r.summary()}", guide=GUIDE, engine=postgresql_engine)


# The recipe's steps, one by one, on small tables.

def at_release_2(engine, new_database, rows: int = SMALL, *, copied: bool = False):
    """A new database at release 2's schema with ``rows`` products; ``copied``: views copied by the command."""
    database = new_database(engine)
    demo.table(database, [demo.RELEASE_1, demo.RELEASE_2], rows, QUIET)
    if copied:
        run = demo.RELEASE_2.run("copy_views_to_bigint", database=database)
        assert run.ok, run.stderr
    return database


def scalar(database, sql: str):
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute(sql)
        return cursor.fetchone()[0]


def differing(database) -> int:
    return scalar(database, f'SELECT count(*) FROM {demo.PRODUCTS} WHERE "views_bigint" IS DISTINCT FROM "views"')


def test_the_trigger_keeps_every_write_of_the_old_code_in_both_columns(postgresql_engine, new_database):
    def written_after_the_copy(trigger: bool) -> int:
        database = at_release_2(postgresql_engine, new_database, copied=True)
        if not trigger:
            assert run_sql(database, f'DROP TRIGGER "shop_product_views_bigint" ON {demo.PRODUCTS}').ok
        # What release 1's code does all day, through its own ORM: views counted, products added.
        code = ("import django; django.setup()\nfrom django.db.models import F\nfrom release_1.models import Product\n"
                "for i in range(1, 200): Product.objects.filter(id=i).update(views=F('views') + 1)\n"
                "for i in range(50): Product.objects.create(name='New')\n")
        run = demo.RELEASE_1.run_python(code, database=database)
        assert run.ok, run.stderr
        return differing(database)

    check("with release 2's trigger, every view counted and product added by the old code after the copy has "
          "views_bigint equal to views", lambda count: count == 0, written_after_the_copy(trigger=True),
          contrast="the same writes without the trigger", against=lambda: written_after_the_copy(trigger=False),
          observed=lambda count: f"{count} rows differ", guide=GUIDE, engine=postgresql_engine)


def column_type(database, column: str = "views") -> str | None:
    return scalar(database, "SELECT data_type FROM information_schema.columns "
                            f"WHERE table_name = '{demo.PRODUCTS}' AND column_name = '{column}'")


def test_release_3_stops_at_the_validation_until_the_copy_has_run_then_runs_again(postgresql_engine, new_database):
    def migrated(copied: bool) -> tuple[CommandRun, str | None, object]:
        database = at_release_2(postgresql_engine, new_database, copied=copied)
        return migrate(demo.RELEASE_3, database), column_type(database), database

    def stopped(outcome) -> bool:
        run, views, _ = outcome
        return not run.ok and "shop_product_views_bigint_copied" in run.stderr and views == "integer"

    first = migrated(copied=False)
    check("release 3's migrations without the copy stop at the validation, naming the constraint, views still "
          "integer", stopped, first, contrast="the copy run first", against=lambda: migrated(copied=True),
          observed=lambda outcome: f"{outcome[0].error_line()}; views {outcome[1]}", guide=GUIDE,
          engine=postgresql_engine)
    # Recovery: the copy, then migrate again.
    database = first[2]
    assert demo.RELEASE_2.run("copy_views_to_bigint", database=database).ok
    again = migrate(demo.RELEASE_3, database)
    assert again.ok and column_type(database) == "bigint", again.stderr


def test_the_validation_refuses_a_row_whose_copy_differs_until_the_copy_runs_again(postgresql_engine, new_database):
    def validated(differing_row: bool) -> tuple[CommandRun, object]:
        database = at_release_2(postgresql_engine, new_database, copied=True)
        if differing_row:  # a write that went round the trigger
            assert run_sql(database, f"ALTER TABLE {demo.PRODUCTS} DISABLE TRIGGER USER",
                           f"UPDATE {demo.PRODUCTS} SET views = views + 1 WHERE id = 1",
                           f"ALTER TABLE {demo.PRODUCTS} ENABLE TRIGGER USER").ok
        return migrate(demo.RELEASE_3, database, "shop", "0005"), database

    refused, database = validated(differing_row=True)
    check("the validation fails on a row whose views_bigint differs from views, though none is NULL",
          lambda outcome: not outcome[0].ok and "shop_product_views_bigint_copied" in outcome[0].stderr,
          (refused, database), contrast="every row copied, and every write through the trigger",
          against=lambda: validated(differing_row=False), observed=lambda outcome: outcome[0].error_line() or "valid",
          guide=GUIDE, engine=postgresql_engine)
    # Recovery: the command copies that row again, then the validation passes.
    again = demo.RELEASE_2.run("copy_views_to_bigint", database=database)
    assert again.ok and "Done: 1 rows copied" in again.stdout, again.stdout + again.stderr
    assert migrate(demo.RELEASE_3, database, "shop", "0005").ok


def debug_messages(database, sql: str) -> list[str]:
    """The DEBUG1 messages PostgreSQL sends while ``sql`` runs, in a transaction rolled back."""
    messages = []
    with database.connect() as connection:
        connection.add_notice_handler(lambda diagnostic: messages.append(diagnostic.message_primary))
        cursor = connection.cursor()
        cursor.execute("BEGIN")
        cursor.execute("SET LOCAL client_min_messages = debug1")
        cursor.execute(sql)
        cursor.execute("ROLLBACK")
    return messages


def test_the_swap_makes_views_bigint_not_null_without_reading_a_row(postgresql_engine, new_database):
    def set_not_null_at(migration: str) -> list[str]:
        database = at_release_2(postgresql_engine, new_database, copied=True)
        assert migrate(demo.RELEASE_3, database, "shop", migration).ok
        return debug_messages(database, f'ALTER TABLE {demo.PRODUCTS} ALTER COLUMN "views_bigint" SET NOT NULL')

    proof = 'existing constraints on column "shop_product.views_bigint" are sufficient to prove that it does not ' \
            'contain nulls'
    check("with the CHECK validated, SET NOT NULL reads no row: PostgreSQL says the constraint proves it",
          lambda messages: proof in messages, set_not_null_at("0005"), contrast="the CHECK still NOT VALID (0004)",
          against=lambda: set_not_null_at("0004"), observed=lambda messages: "\n".join(messages) or "no message",
          guide=GUIDE, engine=postgresql_engine)


def schema(database) -> dict:
    """The products table's columns, indexes, constraints and triggers, as PostgreSQL describes them."""
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns "
                       f"WHERE table_name = '{demo.PRODUCTS}' ORDER BY column_name")
        columns = cursor.fetchall()
        cursor.execute(f"SELECT indexname, indexdef FROM pg_indexes WHERE tablename = '{demo.PRODUCTS}' ORDER BY 1")
        indexes = cursor.fetchall()
        cursor.execute(f"SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = "
                       f"'{demo.PRODUCTS}'::regclass ORDER BY 1")
        constraints = cursor.fetchall()
        cursor.execute(f"SELECT tgname FROM pg_trigger WHERE tgrelid = '{demo.PRODUCTS}'::regclass "
                       "AND NOT tgisinternal")
        triggers = cursor.fetchall()
    return {"columns": columns, "indexes": indexes, "constraints": constraints, "triggers": triggers}


def test_the_recipe_ends_in_the_schema_the_generated_migration_makes(postgresql_engine, new_database):
    def migrated(until: str | None = None) -> dict:
        database = at_release_2(postgresql_engine, new_database, copied=True)
        assert migrate(demo.RELEASE_3, database, *(("shop", until) if until else ())).ok
        return schema(database)

    database = new_database(postgresql_engine)
    demo.table(database, [demo.RELEASE_1, demo.GENERATED], SMALL, QUIET)
    made = schema(database)
    check("after release 3's migrations the table has the columns, indexes and constraints the generated migration "
          "makes, and no trigger", lambda found: found == made, migrated(),
          contrast="release 3 up to its validation, before the swap", against=lambda: migrated("0005"),
          observed=lambda found: f"{found}\nagainst the generated migration's {made}", guide=GUIDE,
          engine=postgresql_engine)


def test_a_swap_cancelled_by_its_lock_timeout_changes_nothing_and_runs_again(postgresql_engine, new_database):
    database = at_release_2(postgresql_engine, new_database, copied=True)
    assert migrate(demo.RELEASE_3, database, "shop", "0005").ok
    before = schema(database)
    timed = database.with_options(options="-c lock_timeout=100ms")
    with OpenTransaction(database, demo.PRODUCTS, seconds=1.5):  # a long report: the swap's lock waits for it
        cancelled = migrate(demo.RELEASE_3, timed)
        after_it = schema(database)
    assert not cancelled.ok and "lock timeout" in cancelled.stderr, cancelled.stderr
    again = migrate(demo.RELEASE_3, timed)
    assert again.ok, again.stderr
    check("a swap cancelled by its lock timeout leaves the table as it was before it; migrate then runs it again",
          lambda found: found == before, after_it, contrast="the table once the second migrate has swapped",
          against=lambda: schema(database), observed=lambda found: f"{found}\nagainst {before}", guide=GUIDE,
          engine=postgresql_engine)


# Release 1's code reads product 1 until its statement is prepared, waits for a line, reads it again.
READS_ACROSS_THE_SWAP = """
import sys
import django; django.setup()
from release_1.models import Product
for _ in range(6):  # psycopg prepares a statement from its fifth run on one connection
    Product.objects.filter(id=1).first()
print("read", flush=True)
sys.stdin.readline()
try:
    Product.objects.filter(id=1).first()
    print("read again")
except Exception as error:
    print(f"{type(error).__name__}: {str(error).splitlines()[0]}")
"""


def test_old_code_with_statements_prepared_on_the_server_fails_after_the_swap(postgresql_engine, new_database):
    def read_across_the_swap(**options) -> str:
        database = at_release_2(postgresql_engine, new_database, copied=True)
        assert migrate(demo.RELEASE_3, database, "shop", "0005").ok
        reader = demo.RELEASE_1.start("-c", READS_ACROSS_THE_SWAP, database=database.with_options(**options),
                                      role="reader", stdin=True)
        assert reader.stdout.readline() == "read\n", reader.communicate(timeout=30)
        swapped = migrate(demo.RELEASE_3, database)
        out, err = reader.communicate(input="go\n", timeout=60)
        assert swapped.ok, swapped.stderr
        return out.strip() + err

    default = read_across_the_swap()
    assert default == "read again", default
    check("release 1's code with server-side binding and prepare_threshold set (statements prepared on the server) "
          "fails its next read after the swap: the cached plan's result type changed",
          lambda out: "cached plan must not change result type" in out,
          read_across_the_swap(server_side_binding=True, prepare_threshold=5),
          contrast="Django's default, parameters bound on the client", against=lambda: default, observed=str,
          guide=GUIDE, engine=postgresql_engine)


VALIDATES_A_BIG_COUNT = """
import sys
import django; django.setup()
from django.core.exceptions import ValidationError
from {release}.models import Product
try:
    Product(name="A", views=2**31).full_clean()
    print("valid")
except ValidationError as error:
    print("refused:", error.message_dict["views"][0])
"""


def test_release_1s_model_refuses_a_count_past_the_integer_range(postgresql_engine, new_database):
    database = at_release_2(postgresql_engine, new_database)

    def full_clean(release) -> str:
        return release.run_python(VALIDATES_A_BIG_COUNT.format(release=release.name), database=database).stdout

    check("release 1's model, an IntegerField, refuses 2,147,483,648 when it validates a product",
          lambda out: out.startswith("refused:"), full_clean(demo.RELEASE_1), contrast="release 3's model, bigint",
          against=lambda: full_clean(demo.RELEASE_3), observed=str, guide=GUIDE, engine=postgresql_engine)


def increment(release, database) -> CommandRun:
    """Count a view of product 1 with ``release``'s code."""
    code = (f"import django; django.setup()\nfrom django.db.models import F\nfrom {release.name}.models import "
            "Product\nProduct.objects.filter(id=1).update(views=F('views') + 1)\n")
    return release.run_python(code, database=database)


def test_a_count_past_the_integer_range_fails_until_the_column_is_bigint(engine, new_database):
    if engine.vendor == "sqlite":
        pytest.skip("SQLite stores every integer in up to 8 bytes, whatever the column's declared type")
    database = at_release_2(engine, new_database, copied=engine.vendor == "postgresql")
    assert run_sql(database, f"UPDATE {demo.PRODUCTS} SET views = {INT_MAX} WHERE id = 1").ok

    def counted(migrated: bool) -> tuple[bool, int, bool]:
        """Whether release 1's code counted a view, the count, and whether it failed out of range."""
        if migrated:
            assert migrate(demo.RELEASE_3, database).ok
        run = increment(demo.RELEASE_1, database)
        return run.ok, scalar(database, f"SELECT views FROM {demo.PRODUCTS} WHERE id = 1"), \
            "out of range" in run.stderr.lower()

    before = counted(migrated=False)
    assert before == (False, INT_MAX, True), before
    check("release 1's code, after release 3's migrations, counts past 2,147,483,647",
          lambda outcome: outcome == (True, INT_MAX + 1, False), counted(migrated=True),
          contrast="the same code before them, on integer: out of range", against=lambda: before,
          observed=str, guide=GUIDE, engine=engine)


def index_on_views_bigint(database) -> tuple[bool, str] | None:
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT x.indisvalid, pg_get_indexdef(x.indexrelid) FROM pg_index x "
                       "WHERE x.indexrelid = to_regclass('shop_product_views_bigint_idx')")
        return cursor.fetchone()


def test_the_index_step_replaces_an_index_a_failed_build_left(postgresql_engine, new_database):
    database = at_release_2(postgresql_engine, new_database, copied=True)
    # What a failed build leaves: an INVALID index of that name (here a unique build that met duplicates).
    assert not run_sql(database, f'CREATE UNIQUE INDEX CONCURRENTLY "shop_product_views_bigint_idx" ON '
                                 f"{demo.PRODUCTS} ((1))").ok
    left = index_on_views_bigint(database)
    assert left is not None and not left[0], left
    assert migrate(demo.RELEASE_3, database, "shop", "0003").ok
    check("migrating again after a failed build replaces the INVALID index it left with a valid one on views_bigint",
          lambda found: found is not None and found[0] and found[1].endswith("(views_bigint)"),
          index_on_views_bigint(database), contrast="the index the failed build left", against=lambda: left,
          observed=str, guide=GUIDE, engine=postgresql_engine)


def test_the_index_step_leaves_alone_an_index_a_build_is_still_making(postgresql_engine, new_database):
    def migrated_while(building: bool) -> CommandRun:
        """0003 run while a build of its index (a killed deploy's, going on in the server) is still making it, held
        in its last wait by an older snapshot; or, with ``building`` false, once that build was cancelled."""
        database = at_release_2(postgresql_engine, new_database, copied=True)
        build = f'CREATE INDEX CONCURRENTLY "shop_product_views_bigint_idx" ON {demo.PRODUCTS} ("views_bigint")'
        with OpenTransaction(database, "django_migrations", seconds=3, isolation="REPEATABLE READ"):
            thread = threading.Thread(target=run_sql, args=(database, build), daemon=True)
            thread.start()
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline and not scalar(
                    database, "SELECT count(*) FROM pg_stat_progress_create_index WHERE index_relid = "
                              "to_regclass('shop_product_views_bigint_idx') AND datname = current_database()"):
                time.sleep(0.02)
            if not building:
                # This database's build only: other tests build indexes on the same server at the same time.
                assert run_sql(database, "SELECT pg_cancel_backend(pid) FROM pg_stat_progress_create_index "
                                         "WHERE datname = current_database()").ok
                thread.join(timeout=10)
            run = migrate(demo.RELEASE_3, database, "shop", "0003")
        thread.join(timeout=10)
        return run

    check("0003 refuses to drop an INVALID index that a build is still making, and names the build",
          lambda run: not run.ok and "is still making it" in run.stderr and "pid" in run.stderr, migrated_while(True),
          contrast="the same index once its build was cancelled: INVALID, no build left",
          against=lambda: migrated_while(False), observed=lambda run: run.error_line() or "succeeded", guide=GUIDE,
          engine=postgresql_engine)


def test_the_index_step_keeps_the_index_a_killed_deploy_finished(postgresql_engine, new_database):
    def migrated_again(*statements: str):
        """The index a killed deploy's build finished (VALID, 0003 unrecorded), then 0003 again, or ``statements``."""
        database = at_release_2(postgresql_engine, new_database, copied=True)
        assert run_sql(database, f'CREATE INDEX CONCURRENTLY "shop_product_views_bigint_idx" ON {demo.PRODUCTS} '
                                 '("views_bigint")').ok
        built = scalar(database, "SELECT to_regclass('shop_product_views_bigint_idx')::oid")
        ok = all(run_sql(database, sql).ok for sql in statements) if statements else \
            migrate(demo.RELEASE_3, database, "shop", "0003").ok
        return ok, scalar(database, "SELECT to_regclass('shop_product_views_bigint_idx')::oid") == built

    check("migrating again after a killed deploy's build finished keeps that index, without building it again",
          lambda found: found == (True, True), migrated_again(),
          contrast="the step as RunSQL that drops the index if it exists and builds it again",
          against=lambda: migrated_again('DROP INDEX CONCURRENTLY IF EXISTS "shop_product_views_bigint_idx"',
                                         f'CREATE INDEX CONCURRENTLY "shop_product_views_bigint_idx" ON '
                                         f'{demo.PRODUCTS} ("views_bigint")'),
          guide=GUIDE, engine=postgresql_engine)


MIGRATE_TO_0003 = """
import django; django.setup()
from django.core.management import call_command
from django.db import connection
call_command("migrate", "shop", "0003", verbosity=0)
with connection.cursor() as cursor:
    cursor.execute("SELECT current_setting('lock_timeout'), current_setting('statement_timeout')")
    print(*cursor.fetchone())
"""


def test_the_index_step_waits_whatever_lock_timeout_the_session_has_then_gives_it_back(postgresql_engine,
                                                                                        new_database):
    database = at_release_2(postgresql_engine, new_database, copied=True)
    timed = database.with_options(options="-c lock_timeout=100ms -c statement_timeout=1min")

    def built(statement: str) -> CommandRun:
        # A transaction holding a snapshot for 1.5 s: a concurrent build waits for it before it finishes.
        with OpenTransaction(database, demo.PRODUCTS, seconds=1.5, isolation="REPEATABLE READ"):
            if statement == "0003":
                return demo.RELEASE_3.run_python(MIGRATE_TO_0003, database=timed)
            return run_sql(timed, statement)

    plain = f'CREATE INDEX CONCURRENTLY "plain_views_bigint_idx" ON {demo.PRODUCTS} ("views_bigint")'
    check("with a 100 ms lock timeout on migrate's connections, 0003's build waits for an older snapshot and "
          "succeeds, and the session's lock and statement timeouts are back after it",
          lambda run: run.ok and run.stdout.strip() == "100ms 1min", built("0003"),
          contrast="the same build statement under that timeout", against=lambda: built(plain),
          observed=lambda run: run.stdout + run.stderr, guide=GUIDE, engine=postgresql_engine)


def vacuumed(database) -> bool:
    """Whether the products were vacuumed by a command (not by autovacuum)."""
    return scalar(database, f"SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables WHERE relname = '{demo.PRODUCTS}'")


def test_copy_views_to_bigint_copies_what_a_stopped_run_left(postgresql_engine, new_database):
    database = at_release_2(postgresql_engine, new_database)
    before = vacuumed(database)
    first = demo.RELEASE_2.run("copy_views_to_bigint", "--batch-size", "300", database=database)
    assert first.ok and "Done: 1,000 rows copied" in first.stdout, first.stdout + first.stderr
    check("copy_views_to_bigint ends with a VACUUM (ANALYZE) of the table", lambda done: done, vacuumed(database),
          contrast="the table before the command", against=lambda: before, observed=str, guide=GUIDE,
          engine=postgresql_engine)
    # What a run stopped half-way leaves: rows not copied yet, in the ids it had not reached.
    assert run_sql(database, f"ALTER TABLE {demo.PRODUCTS} DISABLE TRIGGER USER",
                   f'UPDATE {demo.PRODUCTS} SET "views_bigint" = NULL WHERE id > 970',
                   f"ALTER TABLE {demo.PRODUCTS} ENABLE TRIGGER USER").ok
    left = differing(database)
    again = demo.RELEASE_2.run("copy_views_to_bigint", database=database)
    done = demo.RELEASE_2.run("copy_views_to_bigint", database=database)
    check("a second run of copy_views_to_bigint copies what is left; a third finds nothing to copy",
          lambda found: found == (0, True), (differing(database), "Nothing to copy" in done.stdout),
          contrast="the table and the output of the second run", against=lambda: (left, "Nothing to copy" in again.stdout),
          observed=lambda found: f"{found}; {again.stdout}{done.stdout}", guide=GUIDE, engine=postgresql_engine)
    bad = demo.RELEASE_2.run("copy_views_to_bigint", "--batch-size", "0", database=database)
    assert bad.returncode == 1 and "--batch-size must be at least 1, not 0" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_copy_views_to_bigint_fails_when_the_trigger_is_missing(postgresql_engine, new_database):
    def copied(trigger: bool) -> CommandRun:
        database = at_release_2(postgresql_engine, new_database)
        # The site adding a product with every batch, as release 1 would while the command runs.
        assert run_sql(database, "CREATE FUNCTION old_code() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                                 f"INSERT INTO {demo.PRODUCTS} (name, views) VALUES ('New', 1); RETURN NULL; END $$",
                       f"CREATE TRIGGER old_code AFTER UPDATE ON {demo.PRODUCTS} FOR EACH STATEMENT "
                       "EXECUTE FUNCTION old_code()").ok
        if not trigger:
            assert run_sql(database, f'DROP TRIGGER "shop_product_views_bigint" ON {demo.PRODUCTS}').ok
        return demo.RELEASE_2.run("copy_views_to_bigint", "--batch-size", "300", database=database)

    check("copy_views_to_bigint ends with an error naming the trigger, not 'Done', when rows written while it ran "
          "differ", lambda run: run.returncode == 1 and "trigger" in run.stderr and "Traceback" not in run.stderr,
          copied(trigger=False), contrast="the trigger in place", against=lambda: copied(trigger=True),
          observed=lambda run: run.stdout + run.stderr, guide=GUIDE, engine=postgresql_engine)


def test_copy_views_to_bigint_has_nothing_to_do_on_other_engines(new_database):
    database = at_release_2(sqlite_engine(), new_database)
    run = demo.RELEASE_2.run("copy_views_to_bigint", database=database)
    assert run.ok and "Nothing to copy on SQLite" in run.stdout, run.stdout + run.stderr


# MariaDB: which changes copy the table.

def alter(database, change: str, algorithm: str) -> CommandRun:
    return run_sql(database, f"ALTER TABLE {demo.PRODUCTS} MODIFY {change} NOT NULL, ALGORITHM={algorithm}")


LONGER, CROSSING = "name varchar(60)", "name varchar(100)"
COPIED = {"shorter": "name varchar(30)", "crossing 255 bytes": CROSSING, "bigint": "views bigint"}


def charset(database) -> str:
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT CHARACTER_SET_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
                       f"AND TABLE_NAME = '{demo.PRODUCTS}' AND COLUMN_NAME = 'name'")
        return cursor.fetchone()[0]


def test_on_mariadb_a_longer_varchar_changes_instantly_unless_it_crosses_255_bytes(mariadb_engine, new_database):
    def instantly(*changes: str) -> list[CommandRun]:
        """On a new table of release 1 (name varchar(50), utf8mb4), the changes one after the other, each tried
        instantly, and made by copying the table where that is refused."""
        database = new_database(mariadb_engine)
        demo.table(database, [demo.RELEASE_1], SMALL, QUIET)
        assert charset(database) == "utf8mb4"
        tried = []
        for change in changes:
            tried.append(alter(database, change, "INSTANT"))
            if not tried[-1].ok:
                assert alter(database, change, "COPY").ok
        return tried

    within = instantly(LONGER, "name varchar(63)")  # 200 to 240, then 252 bytes: one length byte
    above = instantly(CROSSING, "name varchar(200)")  # 200 to 400 bytes, then 800: two length bytes after the first
    check("MariaDB lengthens a varchar instantly while its size in bytes (4 a character in utf8mb4) stays on one side "
          "of 255: varchar(50) → varchar(60) → varchar(63), and varchar(100) → varchar(200)",
          lambda runs: all(run.ok for run in runs), [*within, above[1]],
          contrast="varchar(50) → varchar(100) and varchar(63) → varchar(64): 200 to 400 and 252 to 256 bytes",
          against=lambda: [above[0], *instantly("name varchar(63)", "name varchar(64)")[1:]],
          observed=lambda runs: "; ".join(r.stderr or "accepted" for r in runs), guide=GUIDE, engine=mariadb_engine)


def test_on_mariadb_a_shorter_varchar_a_crossing_one_and_bigint_copy_the_table(mariadb_engine, new_database):
    def in_place(changes: list[str]) -> list[CommandRun]:
        database = new_database(mariadb_engine)
        demo.table(database, [demo.RELEASE_1], SMALL, QUIET)
        return [alter(database, change, "INPLACE") for change in changes]

    check("MariaDB refuses to make varchar(50) a varchar(30) or a varchar(100), or integer a bigint, in place: "
          "only by copying the table", lambda runs: all(not r.ok and "Try ALGORITHM=COPY" in r.stderr for r in runs),
          in_place(list(COPIED.values())), contrast="varchar(60), in place", against=lambda: in_place([LONGER]),
          observed=lambda runs: "; ".join(r.stderr or "accepted" for r in runs), guide=GUIDE, engine=mariadb_engine)


@pytest.fixture(scope="module")
def mariadb_generated(mariadb_engine):
    """The three generated changes, each deployed while release 1's real site serves, on MARIADB_ROWS products."""
    yield from generated_on(mariadb_engine, MARIADB_ROWS)


@pytest.mark.measures
@pytest.mark.parametrize("label", ["shorter", "bigint_generated"])
def test_on_mariadb_a_copy_stops_writes(mariadb_generated, mariadb_engine, label):
    def writes_wait(r: DeployReport) -> bool:
        # A stall, not the worst latency, because on the site a write that waits past nginx's timeout ends as a 504.
        copying = copy_ms(r, demo.PRODUCTS)
        return r.migration.ok and copying >= 200 and r.during_migration("write")["longest_stall_ms"] >= 0.5 * copying

    check(f"on MariaDB, {demo.OPERATIONS[label]} stops writes for at least half of the table's copy: none completes",
          writes_wait, mariadb_generated[label], contrast=demo.OPERATIONS["longer"],
          against=lambda: mariadb_generated["longer"], observed=DeployReport.summary, guide=GUIDE,
          engine=mariadb_engine)


def schema_change_ms(r: DeployReport) -> float:
    """How long the server was seen running the migration's schema change on the products, in ms."""
    running = r.longest_lock(demo.PRODUCTS)
    return running.ms if running else 0.0


@pytest.mark.measures
def test_on_mariadb_a_longer_varchar_is_over_in_a_moment(mariadb_generated, mariadb_engine):
    check(f"on MariaDB, varchar(50) → varchar(60) runs less than {BRIEF_MS} ms and fails no request",
          lambda r: r.migration.ok and not r.failures and schema_change_ms(r) < BRIEF_MS, mariadb_generated["longer"],
          contrast=demo.OPERATIONS["shorter"], against=lambda: mariadb_generated["shorter"],
          observed=lambda r: f"seen running {schema_change_ms(r):.0f} ms\n{r.summary()}", guide=GUIDE,
          engine=mariadb_engine)
