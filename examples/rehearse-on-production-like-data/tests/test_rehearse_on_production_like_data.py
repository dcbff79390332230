"""The claims of guides/rehearse-on-production-like-data.md about its own example, checked on real engines.

The PostgreSQL rehearsals are those of the handbook-wide cases (this example's pair among them), run once."""

from __future__ import annotations

import pytest
from test_rehearse_flags_the_handbook_examples import BUDGET, LOCK_CASES, WAIT_BUDGET, report_of

from handbook_rehearse.lockmodes import RANK
from lab.claims import check
from lab.engines import Database, sqlite_engine
from lab.releases import example_dir, example_module, releases
from lab.story import Story

demo = example_module("rehearse-on-production-like-data", "demonstration")
GUIDE = demo.SLUG
QUIET = Story(quiet=True)


GENERATED, EDITED = (next(c for c in LOCK_CASES if c.slug == GUIDE and c.new == name)
                      for name in ("release_2", "release_2_edited"))
MARIADB_ROWS = 100_000  # MariaDB has no template databases: each rehearsal fills its own table


def migration(report: dict, prefix: str) -> dict:
    return next(m for m in report["migrations"] if m["migration"].startswith(f"shop.{prefix}"))


def strongest_on_orders(entry: dict) -> dict:
    held = [lock for lock in entry["locks"] if lock["table"] == "shop_order"]
    return max(held, key=lambda lock: RANK[lock["mode"]])


@pytest.mark.measures
def test_the_plain_index_build_blocks_writes_not_reads(embedded_postgresql_engine, new_database):
    engine = embedded_postgresql_engine
    report = report_of(GENERATED, engine, BUDGET, new_database, WAIT_BUDGET)

    def flagged_for_writes(entry: dict) -> bool:
        lock = strongest_on_orders(entry)
        return (not entry["passed"] and lock["mode"] == "SHARE" and lock["blocks_writes"]
                and not lock["blocks_reads"] and {f["page"] for f in entry["findings"]} ==
                {"guides/add-index-concurrently"}
                and entry["requests"]["reads"]["worst_wait_ms"] < float(WAIT_BUDGET) * 1000)

    check("The plain index build held SHARE on the table: writes waited for it, reads did not; the finding links "
          "add-index-concurrently", flagged_for_writes, migration(report, "0002"),
          contrast="release_2_edited's concurrent build",
          against=lambda: migration(report_of(EDITED, engine, BUDGET, new_database, WAIT_BUDGET), "0002"),
          observed=str, guide=GUIDE, engine=engine)
    column = migration(report, "0003")
    assert column["passed"] and strongest_on_orders(column)["mode"] == "ACCESS EXCLUSIVE", column
    edited = migration(report_of(EDITED, engine, BUDGET, new_database, WAIT_BUDGET), "0002")
    assert strongest_on_orders(edited)["mode"] == "SHARE UPDATE EXCLUSIVE", edited


@pytest.mark.measures
def test_on_mariadb_no_lock_or_wait_breaks_the_budget(mariadb_engine, embedded_postgresql_engine, new_database):
    def on_mariadb(release) -> dict:
        database = new_database(mariadb_engine)
        demo.orders_table(database, MARIADB_ROWS, QUIET)
        return demo.rehearse(database, release, QUIET, budget=BUDGET, wait=WAIT_BUDGET)["report"]

    def lock_or_wait_findings(reports: list[dict]) -> list[str]:
        return [f["message"] for r in reports for m in r["migrations"] for f in m["findings"]
                if f["rule"] != "failure" or "on a lock" not in f["message"]]

    reports = [on_mariadb(release) for release in (demo.GENERATED, demo.EDITED)]
    check("the same rehearsal found no lock or wait over the budget in either release",
          lambda found: not lock_or_wait_findings(found), reports, contrast="the same releases on PostgreSQL",
          against=lambda: [report_of(c, embedded_postgresql_engine, BUDGET, new_database, WAIT_BUDGET)
                           for c in (GENERATED, EDITED)],
          observed=lock_or_wait_findings, guide=GUIDE, engine=mariadb_engine)
    assert all(m["lock_modes_visible"] for r in reports for m in r["migrations"])


def test_on_sqlite_it_refuses_to_run(new_database, embedded_postgresql_engine):
    def run_on(engine) -> object:
        database = new_database(engine)
        demo.orders_table(database, 100, QUIET)
        return demo.GENERATED.run("rehearse", "--noinput", "--settle", "0.1", database=database)

    engine = sqlite_engine()
    check("On SQLite it refuses to run", lambda run: run.returncode == 2 and "needs PostgreSQL or MariaDB"
          in run.stderr and "Traceback" not in run.stderr, run_on(engine), contrast="PostgreSQL",
          against=lambda: run_on(embedded_postgresql_engine), observed=lambda run: run.stderr, guide=GUIDE,
          engine=engine)


def sizing(database: Database) -> dict[str, int]:
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute((example_dir(GUIDE) / "sizing.sql").read_text())
        return {table: rows for _schema, table, rows in cursor.fetchall()}


def test_the_sizing_query_reads_the_row_counts_from_the_statistics(embedded_postgresql_engine, new_database):
    postgresql_engine = embedded_postgresql_engine
    filled = new_database(postgresql_engine)
    demo.orders_table(filled, 10_000, QUIET)  # the fill ends with ANALYZE

    def new_tables_unanalyzed():
        database = new_database(postgresql_engine)
        assert demo.RELEASE_1.run("migrate", database=database).ok
        with database.connect() as connection:
            connection.cursor().execute(f"INSERT INTO {demo.TABLE} (customer_id, total_cents, status) "
                                        "SELECT i, i, 'paid' FROM generate_series(1, 10000) AS g(i)")
        return sizing(database)

    check("after ANALYZE, its estimates match the example's table of 10,000 rows",
          lambda found: found.get(demo.TABLE) == 10_000, sizing(filled),
          contrast="the same rows, never analyzed (reltuples is -1)", against=new_tables_unanalyzed,
          observed=str, guide=GUIDE, engine=postgresql_engine)


@pytest.mark.parametrize("release", releases(GUIDE), ids=lambda r: r.name)
def test_makemigrations_check_is_clean_at_every_release(release, new_database):
    result = release.run("makemigrations", "--check", "--dry-run", database=new_database(sqlite_engine()))
    assert result.ok, f"{release.name}: models and migrations differ:\n{result.stdout}{result.stderr}"
