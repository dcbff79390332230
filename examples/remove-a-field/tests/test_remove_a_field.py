"""The claims of guides/remove-a-field.md, checked on real engines."""

from types import SimpleNamespace

import pytest

from lab import evidence
from lab.claims import check
from lab.deploy import DeployReport
from lab.engines import sqlite_engine
from lab.releases import example_module, releases
from lab.story import Story

demo = example_module("remove-a-field", "demonstration")
GUIDE = demo.SLUG
ROWS = 10_000
QUIET = Story(quiet=True)


@pytest.fixture(scope="module")
def deploys(engine):
    """Every deploy of the story, once per engine, each way on a fresh table."""
    databases = []

    def fresh():
        databases.append(engine.create_database())
        demo.products_table(databases[-1], ROWS, QUIET)
        return databases[-1]

    runs = SimpleNamespace()
    runs.unsafe = demo.deploy(fresh(), demo.RELEASE_1, demo.UNSAFE, QUIET)
    runs.two_releases = fresh()
    runs.nulls_before_release_2 = _null_codes(runs.two_releases)
    runs.release_2 = demo.deploy(runs.two_releases, demo.RELEASE_1, demo.RELEASE_2, QUIET)
    runs.nulls_after_release_2 = _null_codes(runs.two_releases)
    runs.release_3 = demo.deploy(runs.two_releases, demo.RELEASE_2, demo.RELEASE_3, QUIET)
    runs.not_null = demo.deploy(fresh(), demo.RELEASE_1, demo.KEEPS_NOT_NULL, QUIET)
    yield runs
    for database in databases:
        database.drop()


def _null_codes(database) -> int:
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute(f"SELECT COUNT(*) FROM {demo.TABLE} WHERE {demo.COLUMN} IS NULL")
        return cursor.fetchone()[0]


@pytest.mark.parametrize("release", releases(GUIDE), ids=lambda r: r.name)
def test_makemigrations_check_is_clean_at_every_release(release, new_database):
    result = release.run("makemigrations", "--check", "--dry-run", database=new_database(sqlite_engine()))
    assert result.ok, f"{release.name}: models and migrations differ:\n{result.stdout}{result.stderr}"


def test_dropping_the_column_in_one_release_breaks_the_old_code(deploys, engine):
    assert deploys.unsafe.migration.ok, deploys.unsafe.migration.stderr

    def broken(report):
        errors = " ".join(report.old.errors)
        return "legacy_code" in errors and "coupon" in errors.lower()

    check("release 1's queries fail once the column and the table are gone", broken, deploys.unsafe,
          contrast="release 2 of the two-release recipe", against=lambda: deploys.release_2,
          observed=DeployReport.summary, guide=GUIDE, engine=engine)


def test_two_releases_fail_no_request(deploys, engine):
    for step in (deploys.release_2, deploys.release_3):
        assert step.migration.ok, step.migration.stderr
        check(f"deploying {step.new.release} while {step.old.release} serves fails no request",
              lambda r: r.old.operations > 0 and not r.failures, step,
              contrast="the generated migration, in one release", against=lambda: deploys.unsafe,
              observed=DeployReport.summary, guide=GUIDE, engine=engine)


def test_release_3_leaves_neither_column_nor_table(deploys, engine):
    from lab import schema

    assert demo.COLUMN not in schema.columns(deploys.two_releases, demo.TABLE)
    assert not schema.table_exists(deploys.two_releases, demo.GONE_TABLE)


def test_release_2_keeps_the_column_for_release_1(deploys, engine):
    check("release 1 keeps writing the column while release 2 is deployed",
          lambda r: not r.old.errors and any(s.started >= r.migration.started for s in r.old.of("write")),
          deploys.release_2, contrast="the generated migration, in one release", against=lambda: deploys.unsafe,
          observed=DeployReport.summary, guide=GUIDE, engine=engine)


def test_release_1_meets_null_codes_from_release_2s_rows(deploys, engine):
    check("once release 2 serves, rows it inserts hold legacy_code = NULL, and release 1 reads them",
          lambda nulls: nulls > 0 and not deploys.release_2.old.errors, deploys.nulls_after_release_2,
          contrast="the same table before release 2 served", against=lambda: deploys.nulls_before_release_2,
          guide=GUIDE, engine=engine)


def test_a_column_left_not_null_breaks_the_new_codes_inserts(deploys, engine):
    check("if the column stays NOT NULL without a default, the new release's inserts fail",
          lambda r: "legacy_code" in " ".join(r.new.errors) and not r.old.errors, deploys.not_null,
          contrast="release 2, which makes the column nullable", against=lambda: deploys.release_2,
          observed=DeployReport.summary, guide=GUIDE, engine=engine)


@pytest.mark.parametrize(("release", "app_label", "migration"), demo.SQL)
def test_sql_shown_in_the_guide_is_what_sqlmigrate_prints(engine, new_database, release, app_label, migration):
    if reason := evidence.sql_from_other_django(GUIDE):
        pytest.skip(reason)
    problem = evidence.sql_mismatch(GUIDE, release, app_label, migration, new_database(engine))
    assert problem is None, problem
