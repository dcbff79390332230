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


@pytest.fixture(scope="module")
def races(engine, module_databases):
    """Two migrate commands started together, plain and through the wrapper, on a fresh table each."""
    if engine.vendor == "sqlite":
        return None
    found = {}
    for label, command in demo.RACES.items():
        database = module_databases(engine)
        demo.products_table(database, QUIET)
        found[label] = SimpleNamespace(runs=demo.two_at_once(database, command, QUIET),
                                       recorded=demo.times_recorded(database))
    return found


@pytest.fixture
def server_engine(engine):
    if engine.vendor == "sqlite":
        pytest.skip("SQLite lets one writer at a time into its file: the race is the servers'")
    return engine


def race_summary(race) -> str:
    return "\n".join(f"exit {run.returncode}: {run.stderr.strip()[-400:]}" for run in race.runs) + \
        f"\nrecorded {race.recorded} time(s)"


def test_two_migrate_commands_started_together_race_and_one_fails(races, server_engine):
    def one_fails_on_what_the_other_did(race) -> bool:
        loser = [run for run in race.runs if not run.ok]
        said = loser[0].stderr.lower() if loser else ""
        # PostgreSQL: 'column "colour" of relation "shop_product" already exists'; MariaDB: error 1060.
        return (sorted(run.returncode for run in race.runs) == [0, 1] and "colour" in said
                and ("already exists" in said or "duplicate column" in said))

    check("two migrate commands started together both try to apply 0002; one fails on the column the other added",
          one_fails_on_what_the_other_did, races["race_plain"],
          contrast="two migrate_with_retries, which take a run lock", against=lambda: races["race_locked"],
          observed=race_summary, guide=GUIDE, engine=server_engine)
    assert races["race_plain"].recorded == 1, race_summary(races["race_plain"])


def test_the_run_lock_makes_the_second_wait_and_find_nothing_to_apply(races, server_engine):
    def both_succeed(race) -> bool:
        waited = [run for run in race.runs if "Another migrate_with_retries is running" in run.stderr]
        return all(run.ok for run in race.runs) and race.recorded == 1 and len(waited) == 1 \
            and "No migrations to apply" in waited[0].stdout

    check("with the wrapper's run lock, the second run waits for the first, applies nothing, and both succeed",
          both_succeed, races["race_locked"], contrast="two plain migrate commands",
          against=lambda: races["race_plain"], observed=race_summary, guide=GUIDE, engine=server_engine)
