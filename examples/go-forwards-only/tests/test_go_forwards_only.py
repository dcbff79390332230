"""The claims of guides/go-forwards-only.md about going back in production, checked on real engines."""

import pytest

from lab import evidence
from lab.claims import check
from lab.engines import sqlite_engine
from lab.releases import example_module, releases
from lab.rolling import RollingReport
from lab.story import Story

demo = example_module("go-forwards-only", "demonstration")
GUIDE = demo.SLUG
QUIET = Story(quiet=True)


@pytest.fixture(scope="module")
def story(engine, module_databases):
    """Going back after an AddField and after each removal, once per engine, each on a fresh table."""
    def fresh(*later):
        database = module_databases(engine)
        demo.products_table(database, QUIET, list(later))
        return database

    return {
        "add_field": demo.going_back_after_an_add_field(fresh(), QUIET),
        "drop_code_rollback": demo.code_back_over_the_drop(fresh(demo.RELEASE_2), QUIET),
        "drop": demo.going_back_after_a_removal(fresh(demo.RELEASE_2), demo.DROP, QUIET),
        "state_only": demo.going_back_after_a_removal(fresh(demo.RELEASE_2), demo.STATE_ONLY, QUIET),
    }


def summary(report: RollingReport) -> str:
    return report.summary()


def _clean(report: RollingReport) -> bool:
    return report.old.operations > 0 and report.new.operations > 0 and not report.failures


@pytest.mark.parametrize("release", releases(GUIDE), ids=lambda r: r.name)
def test_makemigrations_check_is_clean_at_every_release(release, new_database):
    result = release.run("makemigrations", "--check", "--dry-run", database=new_database(sqlite_engine()))
    assert result.ok, f"{release.name}: models and migrations differ:\n{result.stdout}{result.stderr}"


@pytest.mark.rolls
def test_reversing_an_add_field_loses_what_was_written_since_the_deploy(story, engine):
    notes = story["add_field"]["notes"]
    assert story["add_field"]["reversal"].ok and story["add_field"]["again"].ok

    def every_note_lost(left):
        return notes["after_code_rollback"] > 0 and left == 0

    check("reversing the AddField, then applying it again, leaves none of the notes written since the deploy",
          every_note_lost, notes["after_reversal"],
          contrast="release 1 rolled back in with the schema kept", against=lambda: notes["after_code_rollback"],
          observed=lambda left: f"{left} of {notes['after_code_rollback']} notes left", guide=GUIDE, engine=engine)


@pytest.mark.rolls
def test_rolling_the_code_back_keeps_the_schema_and_fails_nothing_after_an_additive_change(story, engine):
    report = story["add_field"]["code_rollback"]
    check("release 1 rolled back in over release 2's additive schema fails no request",
          _clean, report, contrast="release 2 rolled back in over release 3's RemoveField",
          against=lambda: story["drop_code_rollback"], observed=summary, guide=GUIDE, engine=engine)
    notes = story["add_field"]["notes"]
    assert not report.migrated and notes["after_code_rollback"] >= notes["after_deploy"] > 0, notes
    assert "code" in str(story["drop_code_rollback"].errors(demo.RELEASE_2.name)).lower(), \
        story["drop_code_rollback"].summary()


@pytest.mark.rolls
def test_reversing_a_remove_field_brings_back_none_of_its_values(story, engine):
    def every_value_lost(outcome):
        return outcome["lost"] == demo.ROWS

    check("reversing the generated RemoveField brings back none of the column's values",
          every_value_lost, story["drop"],
          contrast="the state-only removal, reversed", against=lambda: story["state_only"],
          observed=lambda outcome: {key: outcome[key] for key in ("lost", "empty", "column_back")},
          guide=GUIDE, engine=engine)
    drop = story["drop"]
    if engine.vendor == "mysql":
        # MariaDB adds the NOT NULL column back with its implicit default: '' in every row.
        assert drop["backwards"].ok and drop["empty"] == demo.ROWS, drop
    else:
        # PostgreSQL and SQLite refuse a NOT NULL column with nothing to put in it: the reversal fails, and its
        # transaction leaves the table as release 3 left it.
        assert not drop["backwards"].ok and "null" in drop["backwards"].error_line().lower(), drop
        assert not drop["column_back"], drop
    assert story["state_only"]["backwards"].ok and story["state_only"]["lost"] == 0, story["state_only"]


@pytest.mark.parametrize(("release", "app_label", "migration"), demo.SQL)
def test_sql_shown_in_the_guide_is_what_sqlmigrate_prints(engine, new_database, release, app_label, migration):
    problem = evidence.sql_mismatch(GUIDE, release, app_label, migration, new_database(engine))
    assert problem is None, problem


def test_the_state_only_removal_no_longer_reverses_once_a_row_lacks_the_value(story, engine, new_database):
    database = new_database(engine)
    demo.products_table(database, QUIET, [demo.RELEASE_2])
    assert demo.migrate(demo.STATE_ONLY, database).ok
    with database.connect() as connection:  # autocommit: what release 3 does when it adds a product, no code
        connection.cursor().execute(f"INSERT INTO {demo.TABLE} (name, note) VALUES ('Teapot', NULL)")
    check("once a product without a code exists, reversing the state-only removal fails",
          lambda run: not run.ok, demo.reversed_to(database, demo.STATE_ONLY, "0002", QUIET),
          contrast="the same reversal before any product lacks a code",
          against=lambda: story["state_only"]["backwards"], observed=lambda run: run.error_line() or "succeeded",
          guide=GUIDE, engine=engine)
