"""The claims of guides/deploy-migrations-first.md, checked on real engines."""

from types import SimpleNamespace

import pytest

from lab import evidence
from lab.claims import check
from lab.engines import sqlite_engine
from lab.releases import example_module, releases
from lab.rolling import AFTER, MIGRATION, RollingReport
from lab.story import Story

demo = example_module("deploy-migrations-first", "demonstration")
GUIDE = demo.SLUG
QUIET = Story(quiet=True)


@pytest.fixture(scope="module")
def rollouts(engine, module_databases):
    """Every rollout of the story, once per engine, each on a fresh table."""
    def fresh():
        database = module_databases(engine)
        demo.products_table(database, QUIET)
        return database

    return SimpleNamespace(
        code_first=demo.roll_out(fresh(), demo.RELEASE_2, QUIET, migrate_when=AFTER),
        migrations_first=demo.roll_out(fresh(), demo.RELEASE_2, QUIET),
        required=demo.roll_out(fresh(), demo.REQUIRED, QUIET),
    )


def _phases(report: RollingReport, *, before_migration: bool) -> list[dict]:
    """The phases of the rollout before (or after) its migration, the 'before' phase left out."""
    names = [row["phase"] for row in report.by_phase()]
    cut = names.index(MIGRATION)
    chosen = names[1:cut] if before_migration else names[cut + 1:]
    return [row for row in report.by_phase() if row["phase"] in chosen]


def summary(report: RollingReport) -> str:
    return report.summary()


@pytest.mark.parametrize("release", releases(GUIDE), ids=lambda r: r.name)
def test_makemigrations_check_is_clean_at_every_release(release, new_database):
    result = release.run("makemigrations", "--check", "--dry-run", database=new_database(sqlite_engine()))
    assert result.ok, f"{release.name}: models and migrations differ:\n{result.stdout}{result.stderr}"


@pytest.mark.rolls
def test_new_code_before_its_migration_fails_until_the_migration_runs(rollouts, engine):
    def new_code_fails_until_migrated(report):
        before = _phases(report, before_migration=True)
        after = [row for row in report.by_phase() if row["phase"] == AFTER]
        return (report.migration.ok and all(row["new_failed"] for row in before if row["new_requests"] >= 5)
                and any(row["new_failed"] for row in before) and not any(row["new_failed"] for row in after))

    check("new code rolled out before its migration fails in every phase until the migration runs",
          new_code_fails_until_migrated, rollouts.code_first,
          contrast="the same change, migration first", against=lambda: rollouts.migrations_first,
          observed=summary, guide=GUIDE, engine=engine)
    assert "colour" in str(rollouts.code_first.errors(demo.RELEASE_2.name)), rollouts.code_first.summary()


@pytest.mark.rolls
def test_migrations_first_fail_no_request_of_either_release(rollouts, engine):
    check("the same additive change, migration first, fails no request of either release",
          lambda r: r.migration.ok and r.old.operations > 0 and r.new.operations > 0 and not r.failures,
          rollouts.migrations_first,
          contrast="new code first", against=lambda: rollouts.code_first,
          observed=summary, guide=GUIDE, engine=engine)


@pytest.mark.rolls
def test_the_old_release_serves_against_the_new_schema(rollouts, engine):
    def old_serves_after_migration(report):
        return sum(row["old_requests"] for row in _phases(report, before_migration=False)) > 0

    check("migrations first, the old release serves requests against the new schema until its last instance goes",
          old_serves_after_migration, rollouts.migrations_first,
          contrast="new code first, where the old release is gone before the migration",
          against=lambda: rollouts.code_first, observed=summary, guide=GUIDE, engine=engine)


@pytest.mark.rolls
def test_a_change_the_old_code_cannot_use_fails_it_in_the_window(rollouts, engine):
    def old_inserts_fail_after_migration(report):
        failed = sum(row["old_failed"] for row in _phases(report, before_migration=False))
        errors = str(report.errors(demo.RELEASE_1.name)).lower()
        return report.migration.ok and failed > 0 and "colour" in errors and not report.new.errors

    check("a NOT NULL column without a database default, migration first, fails the old release's inserts",
          old_inserts_fail_after_migration, rollouts.required,
          contrast="the nullable column", against=lambda: rollouts.migrations_first,
          observed=summary, guide=GUIDE, engine=engine)
    # Only the inserts fail: release 1's reads and its updates of other columns go on.
    failed = {sample.name for sample in rollouts.required.old.samples if sample.error}
    assert failed == {"add_product"}, rollouts.required.summary()


@pytest.mark.parametrize(("release", "app_label", "migration"), demo.SQL)
def test_sql_shown_in_the_guide_is_what_sqlmigrate_prints(engine, new_database, release, app_label, migration):
    problem = evidence.sql_mismatch(GUIDE, release, app_label, migration, new_database(engine))
    assert problem is None, problem
