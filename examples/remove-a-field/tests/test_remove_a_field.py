"""The claims of guides/remove-a-field.md, checked on real engines."""

from types import SimpleNamespace

import pytest

from lab import evidence
from lab.claims import check
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
    runs.release_2 = demo.deploy(runs.two_releases, demo.RELEASE_1, demo.RELEASE_2, QUIET)
    runs.release_3 = demo.deploy(runs.two_releases, demo.RELEASE_2, demo.RELEASE_3, QUIET)
    runs.not_null = demo.deploy(fresh(), demo.RELEASE_1, demo.KEEPS_NOT_NULL, QUIET)
    yield runs
    for database in databases:
        database.drop()


@pytest.mark.parametrize("release", releases(GUIDE), ids=lambda r: r.name)
def test_makemigrations_check_is_clean_at_every_release(release, new_database):
    result = release.run("makemigrations", "--check", "--dry-run", database=new_database(sqlite_engine()))
    assert result.ok, f"{release.name}: models and migrations differ:\n{result.stdout}{result.stderr}"


def test_dropping_the_column_in_one_release_breaks_the_old_code(deploys, engine):
    report = deploys.unsafe
    assert report.migration.ok, report.migration.stderr
    errors = " ".join(report.old.errors)
    check(report.old.errors and "legacy_code" in errors and "coupon" in errors.lower(), guide=GUIDE,
          claim="release 1's queries fail once the column and the table are gone",
          engine=engine, observed=report.summary())


def test_two_releases_fail_no_request(deploys, engine):
    for step in (deploys.release_2, deploys.release_3):
        assert step.migration.ok, step.migration.stderr
        check(not step.failures, guide=GUIDE,
              claim=f"deploying {step.new.release} while {step.old.release} serves fails no request",
              engine=engine, observed=step.summary())


def test_release_3_leaves_neither_column_nor_table(deploys, engine):
    from lab import schema

    assert demo.COLUMN not in schema.columns(deploys.two_releases, demo.TABLE)
    assert not schema.table_exists(deploys.two_releases, demo.GONE_TABLE)


def test_release_2_keeps_the_column_for_release_1(deploys, engine):
    check(not deploys.release_2.old.errors and deploys.release_2.old.of("write"), guide=GUIDE,
          claim="release 1 keeps writing the column while release 2 is deployed",
          engine=engine, observed=deploys.release_2.summary())


def test_a_column_left_not_null_breaks_the_new_codes_inserts(deploys, engine):
    report = deploys.not_null
    errors = " ".join(report.new.errors)
    check(bool(report.new.errors) and "legacy_code" in errors and not report.old.errors, guide=GUIDE,
          claim="if the column stays NOT NULL without a default, the new release's inserts fail",
          engine=engine, observed=report.summary())


@pytest.mark.parametrize(("release", "app_label", "migration"), demo.SQL)
def test_sql_shown_in_the_guide_is_what_sqlmigrate_prints(engine, new_database, release, app_label, migration):
    if reason := evidence.sql_from_other_django(GUIDE):
        pytest.skip(reason)
    problem = evidence.sql_mismatch(GUIDE, release, app_label, migration, new_database(engine))
    assert problem is None, problem
