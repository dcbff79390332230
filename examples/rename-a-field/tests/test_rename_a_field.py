"""The claims of guides/rename-a-field.md, checked on real engines."""

import re
import signal

import pytest

from lab import evidence, schema
from lab.claims import check
from lab.deploy import migrate
from lab.engines import sqlite_engine
from lab.releases import example_module, releases
from lab.rolling import MIGRATION, RollingReport
from lab.story import Story

demo = example_module("rename-a-field", "demonstration")
GUIDE = demo.SLUG
QUIET = Story(quiet=True)


@pytest.fixture(scope="module")
def story(engine, module_databases):
    """The rollouts of the rename in place and of expand and contract, once per engine, each on a fresh table (the
    renames in Django only are in test_rename_a_field_in_django_only.py, which another worker runs)."""
    def fresh():
        database = module_databases(engine)
        demo.products_table(database, QUIET)
        return database

    unsafe = demo.roll_out(fresh(), demo.RELEASE_1, demo.UNSAFE, QUIET)
    safe_database = fresh()
    safe = demo.expand_and_contract(safe_database, QUIET)
    no_dual = demo.expand_and_contract(fresh(), QUIET, dual_write=False)
    return {"unsafe": unsafe, "safe": safe, "no_dual": no_dual, "safe_database": safe_database}


def summary(report: RollingReport) -> str:
    return report.summary()


def _old_fails_in_every_phase_after_the_migration(report: RollingReport) -> bool:
    names = [row["phase"] for row in report.by_phase()]
    after = [row for row in report.by_phase()[names.index(MIGRATION) + 1:] if row["old_requests"] >= 5]
    return bool(after) and all(row["old_failed"] for row in after)


@pytest.mark.parametrize("release", releases(GUIDE), ids=lambda r: r.name)
def test_makemigrations_check_is_clean_at_every_release(release, new_database):
    result = release.run("makemigrations", "--check", "--dry-run", database=new_database(sqlite_engine()))
    assert result.ok, f"{release.name}: models and migrations differ:\n{result.stdout}{result.stderr}"


@pytest.mark.rolls
def test_renaming_while_the_old_release_serves_fails_it(story, engine):
    def fails_on_both_names(report):
        errors = str(report.errors(demo.RELEASE_1.name)).lower()
        return (report.migration.ok and _old_fails_in_every_phase_after_the_migration(report)
                and "code" in errors and "coupon" in errors)

    check("RenameField and RenameModel fail release 1's requests in every phase until its last instance goes",
          fails_on_both_names, story["unsafe"],
          contrast="the new column added beside the old one (release 2 of expand and contract)",
          against=lambda: story["safe"]["steps"]["expand"],
          observed=summary, guide=GUIDE, engine=engine)
    assert not story["unsafe"].new.errors, story["unsafe"].summary()


def _statements(sql: str) -> list[str]:
    """The SQL statements of what sqlmigrate printed: no comments, no BEGIN or COMMIT."""
    lines = [line.strip() for line in sql.splitlines()]
    return [line for line in lines if line and not line.startswith("--") and line not in ("BEGIN;", "COMMIT;")]


def test_the_generated_migration_renames_the_table_and_back_and_the_edited_one_runs_no_sql(engine, new_database):
    database = new_database(engine)

    def printed(release):
        return _statements(evidence.sqlmigrate(GUIDE, release.name, "shop", "0002", database))

    def renames_and_back(statements):
        plain = [re.sub(r'["`]', "", statement).upper() for statement in statements]
        return (len(plain) > 2 and re.search(r"SHOP_COUPON (RENAME )?TO SHOP_VOUCHER", plain[0]) is not None
                and re.search(r"SHOP_VOUCHER (RENAME )?TO SHOP_COUPON", plain[-1]) is not None
                and any("VOUCHER_ID" in statement for statement in plain[1:-1]))

    check("makemigrations' migration for a rename in Django only renames the table, renames the coupon_id column "
          "of the table Django made for Product.coupons to voucher_id, then renames the table back",
          renames_and_back, printed(demo.DB_COLUMN_GENERATED),
          contrast="the migration edited into SeparateDatabaseAndState", against=lambda: printed(demo.DB_COLUMN_BARE),
          guide=GUIDE, engine=engine)
    # One transaction where DDL is transactional; on MariaDB each RENAME TABLE commits on its own.
    generated = evidence.sqlmigrate(GUIDE, demo.DB_COLUMN_GENERATED.name, "shop", "0002", database)
    assert ("BEGIN;" in generated) == (engine.vendor != "mysql"), generated
    for edited in (demo.DB_COLUMN_BARE, demo.DB_COLUMN):
        check("sqlmigrate prints no statement for the edited migration", lambda statements: statements == [],
              printed(edited), contrast="the migration as makemigrations wrote it",
              against=lambda: printed(demo.DB_COLUMN_GENERATED), guide=GUIDE, engine=engine)


@pytest.mark.rolls
def test_every_step_of_expand_and_contract_fails_no_request(story, engine, module_databases):
    def over(old, new) -> RollingReport:
        """``new`` rolled out over ``old``, on a fresh table migrated to ``old``'s schema."""
        database = module_databases(engine)
        demo.products_table(database, QUIET)
        assert migrate(old, database).ok
        return demo.roll_out(database, old, new, QUIET)

    # Each step against the mistake its precaution prevents: renaming in place instead of expanding; release 4
    # without release 3, which made the old column nullable before the code stopped writing it; release 5 while
    # release 3, which still writes the old column, serves.
    contrasts = {
        "expand": ("RenameField and RenameModel", lambda: story["unsafe"]),
        "read_new": ("RenameField and RenameModel", lambda: story["unsafe"]),
        "stop_old": ("release 4 rolled out over release 2, the old column still NOT NULL",
                     lambda: over(demo.EXPAND, demo.STOP_OLD_WITHOUT_NULLABLE)),
        "drop_old": ("release 5 rolled out over release 3, which still writes the old column",
                     lambda: over(demo.READ_NEW, demo.DROP_OLD)),
    }
    assert contrasts.keys() == story["safe"]["steps"].keys()
    for label, report in story["safe"]["steps"].items():
        contrast, against = contrasts[label]
        check(f"rolling {report.new.release} out over {report.old.release} fails no request",
              lambda r: r.migration.ok and r.old.operations > 0 and r.new.operations > 0 and not r.failures,
              report, contrast=contrast, against=against, observed=summary, guide=GUIDE, engine=engine)
    assert story["safe"]["copy"].ok, story["safe"]["copy"].stderr
    assert "code" not in schema.columns(story["safe_database"], demo.TABLE)


@pytest.mark.rolls
def test_no_write_is_lost_when_the_new_column_is_read(story, engine):
    check("with the release that writes both, no row's sku differs from its code once release 3 reads sku",
          lambda outcome: outcome["differing"] == {"before_read_new": 0, "after_read_new": 0}, story["safe"],
          contrast="without that release: release 2 writes code alone",
          against=lambda: story["no_dual"], observed=lambda outcome: outcome["differing"], guide=GUIDE, engine=engine)
    # What went wrong without it: rows changed by release 2 after the copy, while release 3 rolled out.
    assert story["no_dual"]["differing"]["after_read_new"] > 0, story["no_dual"]["differing"]


def test_the_copy_runs_again_without_changing_anything(engine):
    database = engine.create_database()
    try:
        demo.products_table(database, QUIET)
        assert demo.EXPAND.run("migrate", database=database).ok
        first = demo.EXPAND.run(demo.COPY_COMMAND, "--batch-size", "3000", database=database)
        second = demo.EXPAND.run(demo.COPY_COMMAND, database=database)
        assert first.ok and "10,000 rows copied" in first.stdout, first.stdout + first.stderr
        assert second.ok and "Nothing to copy" in second.stdout, second.stdout + second.stderr
        assert demo.differing_rows(database) == 0
        # Values that differ only in case or in a trailing space are different values: copied on every engine.
        with database.connect() as connection:
            cursor = connection.cursor()
            cursor.execute(f"UPDATE {demo.TABLE} SET code = 'ab-1', sku = 'AB-1' WHERE id = 1")
            cursor.execute(f"UPDATE {demo.TABLE} SET code = 'ab-2', sku = 'ab-2 ' WHERE id = 2")
        assert demo.differing_rows(database) == 2
        subtle = demo.EXPAND.run(demo.COPY_COMMAND, database=database)
        assert subtle.ok and ": 2 rows copied" in subtle.stdout, subtle.stdout + subtle.stderr
        assert demo.differing_rows(database) == 0
        refused = demo.EXPAND.run(demo.COPY_COMMAND, "--batch-size", "0", database=database)
        assert not refused.ok and "--batch-size must be at least 1" in refused.stderr
        assert "Traceback" not in refused.stderr
    finally:
        database.drop()


def test_the_copy_killed_half_way_resumes_where_it_stopped(engine, new_database):
    database = new_database(engine)
    demo.products_table(database, QUIET)
    assert demo.EXPAND.run("migrate", database=database).ok
    command = demo.EXPAND.start(demo.COPY_COMMAND, "--batch-size", "500", "--pause", "0.2", database=database,
                                role="copy")
    progress = [command.stdout.readline() for _ in range(3)]  # its plan, then two batches
    command.send_signal(signal.SIGKILL)
    command.wait(timeout=30)
    left = demo.differing_rows(database)
    assert progress[0].startswith("Copying ids 1 to") and 0 < left < demo.ROWS, (progress, left)
    resumed = demo.EXPAND.run(demo.COPY_COMMAND, database=database)
    assert resumed.ok and f": {left:,} rows copied" in resumed.stdout, resumed.stdout + resumed.stderr
    assert demo.differing_rows(database) == 0


@pytest.mark.parametrize(("release", "app_label", "migration"), demo.SQL)
def test_sql_shown_in_the_guide_is_what_sqlmigrate_prints(engine, new_database, release, app_label, migration):
    problem = evidence.sql_mismatch(GUIDE, release, app_label, migration, new_database(engine))
    assert problem is None, problem
