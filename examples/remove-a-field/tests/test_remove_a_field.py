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


@pytest.mark.rolls
def test_dropping_the_column_in_one_release_breaks_the_old_code(deploys, engine):
    assert deploys.unsafe.migration.ok, deploys.unsafe.migration.stderr

    def broken(report):
        errors = " ".join(report.old.errors)
        return "legacy_code" in errors and "coupon" in errors.lower()

    check("release 1's queries fail once the column and the table are gone", broken, deploys.unsafe,
          contrast="release 2 of the two-release recipe", against=lambda: deploys.release_2,
          observed=DeployReport.summary, guide=GUIDE, engine=engine)


def _old_fails_in_every_phase_it_serves(report) -> bool:
    """Every phase after the migration in which the old release served requests has failures of it."""
    served = [row for row in report.by_phase()
              if row["phase"] not in ("before", "migration") and row["old_requests"] >= 5]
    return bool(served) and all(row["old_failed"] for row in served)


@pytest.mark.rolls
def test_release_1_fails_in_every_phase_of_the_rollout_until_its_last_instance_is_replaced(deploys, engine):
    check("release 1's instances fail in every phase of the rollout in which they still serve",
          _old_fails_in_every_phase_it_serves, deploys.unsafe,
          contrast="release 2 of the two-release recipe", against=lambda: deploys.release_2,
          observed=lambda r: r.summary(), guide=GUIDE, engine=engine)
    # Once every instance runs the new release, nothing fails: the damage is the rollout's window.
    assert not deploys.unsafe.failures_by_phase()[demo.UNSAFE.name, "after"], deploys.unsafe.summary()


@pytest.mark.rolls
def test_two_releases_fail_no_request(deploys, engine):
    for step in (deploys.release_2, deploys.release_3):
        assert step.migration.ok, step.migration.stderr
        check(f"deploying {step.new.release} while {step.old.release} serves fails no request",
              lambda r: r.old.operations > 0 and not r.failures, step,
              contrast="the generated migration, in one release", against=lambda: deploys.unsafe,
              observed=DeployReport.summary, guide=GUIDE, engine=engine)


@pytest.mark.rolls
def test_release_3_leaves_neither_column_nor_table(deploys, engine):
    from lab import schema

    assert demo.COLUMN not in schema.columns(deploys.two_releases, demo.TABLE)
    assert not schema.table_exists(deploys.two_releases, demo.GONE_TABLE)


@pytest.mark.rolls
def test_release_2_keeps_the_column_for_release_1(deploys, engine):
    check("release 1 keeps writing the column while release 2 is deployed",
          lambda r: not r.old.errors and any(s.started >= r.migration.started for s in r.old.of("write")),
          deploys.release_2, contrast="the generated migration, in one release", against=lambda: deploys.unsafe,
          observed=DeployReport.summary, guide=GUIDE, engine=engine)


@pytest.mark.rolls
def test_release_1_serves_beside_release_2s_null_codes(deploys, engine):
    check("once release 2 serves, rows it inserts hold legacy_code = NULL, and release 1, serving beside it, fails "
          "no request",
          lambda nulls: nulls > 0 and not deploys.release_2.old.errors, deploys.nulls_after_release_2,
          contrast="the same table before release 2 served", against=lambda: deploys.nulls_before_release_2,
          guide=GUIDE, engine=engine)


@pytest.mark.rolls
def test_a_column_left_not_null_breaks_the_new_codes_inserts(deploys, engine):
    check("if the column stays NOT NULL without a default, the new release's inserts fail",
          lambda r: "legacy_code" in " ".join(r.new.errors) and not r.old.errors, deploys.not_null,
          contrast="release 2, which makes the column nullable", against=lambda: deploys.release_2,
          observed=DeployReport.summary, guide=GUIDE, engine=engine)


@pytest.mark.parametrize(("release", "app_label", "migration"), demo.SQL)
def test_sql_shown_in_the_guide_is_what_sqlmigrate_prints(engine, new_database, release, app_label, migration):
    problem = evidence.sql_mismatch(GUIDE, release, app_label, migration, new_database(engine))
    assert problem is None, problem


# MariaDB: what making the column nullable costs, and the database default that avoids it.
NULLABLE_SQL = f"ALTER TABLE {demo.TABLE} MODIFY {demo.COLUMN} varchar(20) NULL"  # release 2's statement, unquoted
COPY = f"{demo.TABLE}_copy"


def _table_id(cursor, database, table: str) -> int:
    """InnoDB's id of the table: a rebuild makes a new table, with a new id."""
    cursor.execute("SELECT TABLE_ID FROM information_schema.INNODB_SYS_TABLES WHERE NAME = %s",
                   (f"{database.name}/{table}",))
    return cursor.fetchone()[0]


def _on_a_copy(database, statement: str) -> dict:
    """Run ``statement`` (about the products table) on a fresh copy of it: whether the server accepted it, its
    answer, and whether it rebuilt the table."""
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute(f"DROP TABLE IF EXISTS {COPY}")
        cursor.execute(f"CREATE TABLE {COPY} LIKE {demo.TABLE}")
        cursor.execute(f"INSERT INTO {COPY} SELECT * FROM {demo.TABLE}")
        before = _table_id(cursor, database, COPY)
        try:
            cursor.execute(statement.replace(f"TABLE {demo.TABLE} ", f"TABLE {COPY} "))
            answer = "accepted"
        except Exception as exc:  # the server's refusal is the observation
            answer = f"{exc.args[0]}: {exc.args[1]}"
        return {"accepted": answer == "accepted", "answer": answer,
                "rebuilt": _table_id(cursor, database, COPY) != before}


def test_on_mariadb_a_nullable_column_rebuilds_the_table_online_and_a_default_does_not(mariadb_engine, new_database):
    database = new_database(mariadb_engine)
    demo.products_table(database, ROWS, QUIET)
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute(f"SHOW TABLE STATUS LIKE '{demo.TABLE}'")
        # Instant only in ROW_FORMAT=REDUNDANT, MariaDB documents; the table Django made is DYNAMIC.
        assert cursor.fetchone()[3] == "Dynamic"

    def online_rebuild(seen):
        return seen["accepted"] and seen["rebuilt"]

    check("MariaDB makes the column nullable by rebuilding the table, online: LOCK=NONE is accepted",
          online_rebuild, _on_a_copy(database, f"{NULLABLE_SQL}, ALGORITHM=INPLACE, LOCK=NONE"),
          contrast="a database default, under the same clauses",
          against=lambda: _on_a_copy(database, f"{demo.SET_DEFAULT}, ALGORITHM=INPLACE, LOCK=NONE"),
          guide=GUIDE, engine=mariadb_engine)
    check("MariaDB refuses ALGORITHM=INSTANT for making the column nullable",
          lambda seen: not seen["accepted"] and "ALGORITHM=INSTANT is not supported" in seen["answer"],
          _on_a_copy(database, f"{NULLABLE_SQL}, ALGORITHM=INSTANT"),
          contrast="a database default with ALGORITHM=INSTANT",
          against=lambda: _on_a_copy(database, f"{demo.SET_DEFAULT}, ALGORITHM=INSTANT"),
          guide=GUIDE, engine=mariadb_engine)
    check("a database default is metadata only: ALGORITHM=INSTANT is accepted and the table is not rebuilt",
          lambda seen: seen["accepted"] and not seen["rebuilt"],
          _on_a_copy(database, f"{demo.SET_DEFAULT}, ALGORITHM=INSTANT"),
          contrast="release 2's MODIFY … NULL", against=lambda: _on_a_copy(database, NULLABLE_SQL),
          guide=GUIDE, engine=mariadb_engine)


@pytest.mark.rolls
def test_a_database_default_lets_the_new_release_insert_into_the_not_null_column(mariadb_engine, new_database):
    database = new_database(mariadb_engine)
    demo.products_table(database, ROWS, QUIET)
    default = demo.default_while_release_1_serves(database, QUIET)
    assert default.migration.ok and not default.failures, default.summary()

    def without_default():
        other = new_database(mariadb_engine)
        demo.products_table(other, ROWS, QUIET)
        return demo.deploy(other, demo.RELEASE_1, demo.KEEPS_NOT_NULL, QUIET)

    check("with a database default on the NOT NULL column, the new release's inserts succeed",
          lambda r: r.migration.ok and r.new.operations > 0 and not r.failures,
          demo.deploy(database, demo.RELEASE_1, demo.KEEPS_NOT_NULL, QUIET),
          contrast="the column left NOT NULL without a default", against=without_default,
          observed=DeployReport.summary, guide=GUIDE, engine=mariadb_engine)
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute(f"SELECT COUNT(*), SUM({demo.COLUMN} = '') FROM {demo.TABLE} WHERE id > {ROWS}")
        inserted, empty = cursor.fetchone()
    # Release 1 still sends its code; release 2's rows hold the default, and no row holds NULL.
    assert inserted > 0 and empty > 0 and _null_codes(database) == 0, (inserted, empty)
