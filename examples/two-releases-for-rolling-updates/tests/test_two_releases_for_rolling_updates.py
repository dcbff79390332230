"""The claims of guides/two-releases-for-rolling-updates.md, checked on real engines."""

import signal

import pytest

from lab import evidence
from lab.claims import check
from lab.engines import sqlite_engine
from lab.releases import example_module, releases
from lab.rolling import MIGRATION, RollingReport
from lab.story import Story

demo = example_module("two-releases-for-rolling-updates", "demonstration")
GUIDE = demo.SLUG
QUIET = Story(quiet=True)


@pytest.fixture(scope="module")
def story(engine, module_databases):
    """One release, then two, once per engine, each on a fresh table."""
    def fresh():
        database = module_databases(engine)
        demo.products_table(database, QUIET)
        return database

    one_release_database = fresh()
    one_release = demo.roll_out(one_release_database, demo.RELEASE_1, demo.ONE_RELEASE, QUIET)
    database = fresh()
    return {"one_release": one_release, "one_release_database": one_release_database,
            **demo.two_releases(database, QUIET), "database": database}


def summary(report: RollingReport) -> str:
    return report.summary()


def _broke_the_deploy(report: RollingReport) -> bool:
    """The migration failed, or the old release failed requests once it had run."""
    if not report.migration.ok:
        return True
    names = [row["phase"] for row in report.by_phase()]
    return any(row["old_failed"] for row in report.by_phase()[names.index(MIGRATION) + 1:])


def _clean(report: RollingReport) -> bool:
    return report.migration.ok and report.old.operations > 0 and report.new.operations > 0 and not report.failures


@pytest.mark.parametrize("release", releases(GUIDE), ids=lambda r: r.name)
def test_makemigrations_check_is_clean_at_every_release(release, new_database):
    result = release.run("makemigrations", "--check", "--dry-run", database=new_database(sqlite_engine()))
    assert result.ok, f"{release.name}: models and migrations differ:\n{result.stdout}{result.stderr}"


@pytest.mark.rolls
def test_one_release_breaks_the_rollout(story, engine):
    check("NOT NULL in the release whose code starts setting the weight: the migration fails, or release 1's "
          "inserts fail until its last instance goes",
          _broke_the_deploy, story["one_release"],
          contrast="release 3, after release 2 and the fill", against=lambda: story["schema"],
          observed=summary, guide=GUIDE, engine=engine)
    report = story["one_release"]
    if engine.vendor != "mysql":
        # One transaction under a lock no insert passes (PostgreSQL's ACCESS EXCLUSIVE, SQLite's write lock): no NULL
        # can land between the UPDATE and the NOT NULL, so the migration succeeds.
        assert report.migration.ok, report.summary()
    if report.migration.ok:  # then only the inserts of release 1 failed (the guide lists the errors recorded)
        assert {s.name for s in report.old.samples if s.error} == {"add_product"}, report.summary()
    else:  # MariaDB: a NULL landed before the MODIFY ended; what ran before it stays, and Django recorded nothing
        error = report.migration.error_line()
        assert "Invalid use of NULL value" in error or "Data truncated for column 'weight_grams'" in error, error
        with story["one_release_database"].connect() as connection:
            cursor = connection.cursor()
            cursor.execute("SELECT COLUMN_DEFAULT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
                           "AND TABLE_NAME = %s AND COLUMN_NAME = 'weight_grams'", (demo.TABLE,))
            assert cursor.fetchone()[0] == "0"
            cursor.execute("SELECT COUNT(*) FROM django_migrations WHERE app = 'shop' AND name LIKE '0002%%'")
            assert cursor.fetchone()[0] == 0


@pytest.mark.rolls
def test_two_releases_fail_nothing(story, engine):
    for label in ("code", "schema"):
        check(f"{story[label].new.release}, rolled out over {story[label].old.release}, fails no request",
              _clean, story[label], contrast="code and NOT NULL in one release",
              against=lambda: story["one_release"], observed=summary, guide=GUIDE, engine=engine)
    assert story["fill"].ok, story["fill"].stderr


@pytest.mark.rolls
def test_after_release_3_no_product_lacks_a_weight(story, engine):
    with story["database"].connect() as connection:
        cursor = connection.cursor()
        cursor.execute(f"SELECT COUNT(*), SUM(CASE WHEN weight_grams IS NULL THEN 1 ELSE 0 END) FROM {demo.TABLE}")
        total, missing = cursor.fetchone()
    assert total > demo.ROWS and not missing, (total, missing)


def test_the_fill_resumes_and_says_what_is_missing(engine, new_database):
    database = new_database(engine)
    demo.products_table(database, QUIET)
    refused = demo.RELEASE_2.run(demo.FILL_COMMAND, database=database)
    assert not refused.ok and "--grams" in refused.stderr and "Traceback" not in refused.stderr
    first = demo.RELEASE_2.run(demo.FILL_COMMAND, "--grams", "500", "--batch-size", "3000", database=database)
    again = demo.RELEASE_2.run(demo.FILL_COMMAND, "--grams", "500", database=database)
    assert first.ok and f"{demo.ROWS:,} products filled" in first.stdout, first.stdout + first.stderr
    assert again.ok and "Nothing to fill" in again.stdout, again.stdout + again.stderr


def _missing(database) -> int:
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute(f"SELECT COUNT(*) FROM {demo.TABLE} WHERE weight_grams IS NULL")
        return cursor.fetchone()[0]


def test_the_fill_killed_half_way_resumes_where_it_stopped(engine, new_database):
    database = new_database(engine)
    demo.products_table(database, QUIET)
    command = demo.RELEASE_2.start(demo.FILL_COMMAND, "--grams", "500", "--batch-size", "500", "--pause", "0.2",
                                   database=database, role="fill")
    progress = [command.stdout.readline() for _ in range(3)]  # its plan, then two batches
    command.send_signal(signal.SIGKILL)
    command.wait(timeout=30)
    left = _missing(database)
    assert progress[0].startswith("Filling ids 1 to") and 0 < left < demo.ROWS, (progress, left)
    resumed = demo.RELEASE_2.run(demo.FILL_COMMAND, "--grams", "500", database=database)
    assert resumed.ok and f": {left:,} products filled" in resumed.stdout, resumed.stdout + resumed.stderr
    assert _missing(database) == 0


@pytest.mark.parametrize(("release", "app_label", "migration"), demo.SQL)
def test_sql_shown_in_the_guide_is_what_sqlmigrate_prints(engine, new_database, release, app_label, migration):
    problem = evidence.sql_mismatch(GUIDE, release, app_label, migration, new_database(engine))
    assert problem is None, problem
