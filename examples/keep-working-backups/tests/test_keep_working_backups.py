"""The claims of guides/keep-working-backups.md, checked on real engines."""

import re
from pathlib import Path

import pytest

from lab import evidence
from lab.claims import check
from lab.deploy import DeployReport
from lab.engines import sqlite_engine
from lab.releases import REPO, example_module, releases
from lab.site import Shape
from lab.story import Story

demo = example_module("keep-working-backups", "demonstration")
GUIDE = demo.SLUG
QUIET = Story(quiet=True)
ROWS = 10_000
WORKERS = Shape().instances * Shape().workers  # the site's workers, each with a connection of its own


@pytest.fixture(scope="module")
def drill(engine, module_databases, tmp_path_factory):
    """The drill, once per engine: backup while release 2 serves, release 3's drop, the restore."""
    return demo.drill(engine, ROWS, QUIET, module_databases, Path(tmp_path_factory.mktemp("backups")))


@pytest.mark.parametrize("release", releases(GUIDE), ids=lambda r: r.name)
def test_makemigrations_check_is_clean_at_every_release(release, new_database):
    result = release.run("makemigrations", "--check", "--dry-run", database=new_database(sqlite_engine()))
    assert result.ok, f"{release.name}: models and migrations differ:\n{result.stdout}{result.stderr}"


@pytest.fixture(scope="module")
def taken_before_the_rollout(engine, module_databases, tmp_path_factory):
    """The contrast of the backup's and the export's claims, run once per engine when first asked for: what a team
    holds that took its backup, or its export, before release 2 had rolled out (the last night's backup, or an
    export taken as release 2's deploy began), set against the data at the drop. Release 1 added products and
    coupons during the rollout that neither holds."""
    taken = {}

    def run() -> dict:
        if not taken:
            database = module_databases(engine)
            demo.shop(database, ROWS, QUIET)
            folder = Path(tmp_path_factory.mktemp("early"))
            demo.backups.backup(database, folder / f"early-{engine.id}")
            demo.export_dropped(database, folder / "export")
            demo.rolling(database, demo.RELEASE_1, demo.RELEASE_2, QUIET, [demo.TABLE, demo.COUPONS])
            later = demo.destroyed(database)
            restored, loaded = module_databases(engine), module_databases(engine)
            demo.backups.restore(folder / f"early-{engine.id}", restored)
            demo.load_dropped(folder / "export", loaded)
            taken.update(backup=(later, demo.destroyed(restored)), export=(later, demo.kept(loaded)))
        return taken

    return run


@pytest.mark.rolls
def test_the_restore_gives_back_everything_the_drop_destroyed(drill, engine, taken_before_the_rollout):
    before = drill["before"]
    # The filled rows, and those release 1 added while release 2 rolled out; release 2 changes none of them.
    assert before["legacy codes"][0] >= ROWS and before["coupons"][0] >= ROWS // 10, before
    assert drill["unchanged"], "the data release 3 drops changed while release 2 served"
    check("restored into a new database, the backup holds every legacy code and coupon that release 3 dropped",
          lambda found: demo.lost(*found) == 0, (before, drill["back"]),
          contrast="a backup taken before release 2 rolled out",
          against=lambda: taken_before_the_rollout()["backup"],
          observed=lambda found: f"{demo.lost(*found)} rows missing", guide=GUIDE, engine=engine)


@pytest.mark.rolls
def test_the_targeted_export_loaded_back_holds_everything_the_drop_destroyed(drill, engine, taken_before_the_rollout):
    live = drill["live"]
    # Checked against the live rows just before the drop: every legacy code and coupon release 3 then dropped.
    assert live == drill["before"] and demo.lost(live, drill["gone"]) == sum(rows for rows, _ in live.values())
    assert live["legacy codes"][0] >= ROWS and live["coupons"][0] >= ROWS // 10, live
    check("loaded into tables of their own in a new database, the targeted export holds every legacy code and "
          "coupon that release 3 dropped, by row count and checksum",
          lambda found: demo.lost(*found) == 0, (live, drill["kept"]),
          contrast="an export taken before release 2 rolled out",
          against=lambda: taken_before_the_rollout()["export"],
          observed=lambda found: f"{demo.lost(*found)} rows missing or different", guide=GUIDE, engine=engine)


@pytest.mark.rolls
def test_the_backup_taken_while_the_site_serves_fails_no_request(drill, engine):
    """A smoke test, not a claim: no visitor of release 2's real site, who gives up after 3 s, sees a backup fail
    a request; pg_dump's lock, which lets every read and write through, is the claim (next test)."""
    report: DeployReport = drill["backup"]
    assert report.migration.ok, report.migration.stderr
    assert report.old.operations > 0 and not report.failures, report.summary()


@pytest.mark.rolls
def test_the_targeted_export_taken_while_the_site_serves_fails_no_request(drill, engine):
    """A smoke test, not a claim, as for the backup."""
    report: DeployReport = drill["export"]
    assert report.migration.ok, report.migration.stderr
    assert report.old.operations > 0 and not report.failures, report.summary()


@pytest.mark.rolls
def test_pg_dump_takes_only_access_share(drill, engine):
    if engine.vendor != "postgresql":
        pytest.skip("pg_dump is PostgreSQL's; the other engines' lock views show no lock modes")
    check("pg_dump holds ACCESS SHARE on the table, which no read or write waits for",
          lambda modes: modes == {"ACCESS SHARE"}, drill["backup"].locks.modes("pg_dump", demo.TABLE),
          contrast="release 3's migration on the same table",
          against=lambda: drill["drop"].locks.modes("migrate", demo.TABLE), guide=GUIDE, engine=engine)


@pytest.fixture(scope="module")
def during_dump(engine, module_databases, tmp_path_factory):
    """PostgreSQL: release 3's migration while pg_dump runs, without and with a lock timeout, and without a dump."""
    if engine.vendor != "postgresql":
        pytest.skip("pg_dump's lock and lock_timeout are PostgreSQL's")
    folder = Path(tmp_path_factory.mktemp("dumps"))
    runs = {}
    for label, timeout in (("plain", None), ("timeout", demo.LOCK_TIMEOUT_MS)):
        database = module_databases(engine)
        demo.shop_at_release_2(database, demo.DUMP_ROWS, QUIET)
        runs[label] = demo.drop_during_dump(database, folder, QUIET, timeout)
        runs[f"{label}_database"] = database
    quiet = module_databases(engine)
    demo.shop_at_release_2(quiet, demo.DUMP_ROWS, QUIET)
    runs["no_dump"] = demo.drop_without_dump(quiet, QUIET)
    return runs


def _queued_behind_the_dump(report) -> bool:
    """The migration waited 100 ms or more for its lock, and every worker of the site was seen waiting behind it, the
    longest for at least half the migration's wait: a queue, not the brief waits any ACCESS EXCLUSIVE causes (the
    migration with no dump running makes every worker wait a moment too)."""
    locks = report.locks
    migration_waited = locks.longest(locks.waits("migrate", demo.TABLE))
    site_waits = report.site_waits()
    return (report.migration.ok and migration_waited >= 100 and len({span.who for span in site_waits}) == WORKERS
            and report.longest_site_wait_ms() >= 0.5 * migration_waited)


@pytest.mark.measures
def test_a_migration_during_pg_dump_waits_for_it_and_requests_queue_behind(during_dump, engine):
    check("release 3's migration, started while pg_dump runs, waits for the dump, and requests queue behind it",
          _queued_behind_the_dump, during_dump["plain"],
          contrast="the same migration with no dump running", against=lambda: during_dump["no_dump"],
          observed=DeployReport.summary, guide=GUIDE, engine=engine)


@pytest.mark.measures
def test_a_lock_timeout_makes_the_migration_give_up_and_a_retry_after_the_dump_succeeds(during_dump, engine):
    check("with a lock_timeout, the migration gives up while pg_dump runs",
          lambda r: not r.migration.ok and "lock timeout" in r.migration.stderr, during_dump["timeout"],
          contrast="the same migration without a lock_timeout", against=lambda: during_dump["plain"],
          observed=DeployReport.summary, guide=GUIDE, engine=engine)
    retried = demo.RELEASE_3.run("migrate", database=during_dump["timeout_database"])
    assert retried.ok, retried.stderr


def test_dumpdata_of_the_release_that_forgot_the_field_holds_none_of_what_the_drop_destroys(engine, new_database):
    dumped = demo.dumpdata(engine, ROWS, QUIET, new_database)

    def holds_nothing_dropped(found):
        return not found["holds_legacy_codes"] and not found["holds_coupons"]

    check("dumpdata, run by release 2, holds neither the legacy codes nor the coupons",
          holds_nothing_dropped, dumped,
          contrast="dumpdata run by release 1, whose models still know them",
          against=lambda: _dumpdata_of_release_1(engine, new_database), guide=GUIDE, engine=engine)


def _dumpdata_of_release_1(engine, new_database) -> dict:
    database = new_database(engine)
    demo.shop(database, 100, QUIET)
    run = demo.RELEASE_1.run("dumpdata", "shop", database=database)
    assert run.ok, run.stderr
    return {"holds_legacy_codes": '"legacy_code"' in run.stdout, "holds_coupons": '"shop.coupon"' in run.stdout}


def test_the_log_position_noted_before_the_drop_comes_before_it_in_the_wal(engine, new_database):
    """What a point-in-time recovery stops at (recovery_target_lsn): the position read just before the migration
    that drops. PostgreSQL's WAL, read with pg_walinspect: the commit that removes the coupons table's file lies
    after the noted position, so a recovery that stops there stops before the drop."""
    if engine.vendor == "sqlite":
        pytest.skip("SQLite keeps no log of changes to recover from")
    database = new_database(engine)
    if engine.vendor == "mysql":
        position = demo.backups.log_position(database)
        reason = "is off on this server (log_bin=0)" if position is None else "is not read by the lab's tests"
        pytest.skip(f"MariaDB's binary log {reason}: the guide cites MariaDB's documentation for it")
    demo.shop_at_release_2(database, 100, QUIET)
    with database.connect() as keeper:
        cursor = keeper.cursor()
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
        # A temporary slot keeps the WAL from here until this connection closes: nothing recycles it mid-test.
        cursor.execute("SELECT pg_create_physical_replication_slot(%s, true, true)", (f"{database.name}_wal",))
        cursor.execute("SELECT pg_relation_filepath(%s)", (demo.COUPONS,))
        coupons_file = cursor.fetchone()[0]
        noted = demo.backups.log_position(database)
        migrated = demo.RELEASE_3.run("migrate", database=database)
        assert migrated.ok, migrated.stderr
        read_after = demo.backups.log_position(database)  # the mistake: the position read once the deploy is done
        cursor.execute("SELECT pg_current_wal_flush_lsn()")
        end = cursor.fetchone()[0]

        def drop_comes_after(position: str) -> bool:
            """The WAL between ``position`` and the end of the migration holds the commit that drops the table."""
            cursor.execute("SELECT %s::pg_lsn < %s::pg_lsn", (position, end))
            if not cursor.fetchone()[0]:
                return False
            cursor.execute("SELECT count(*) FROM pg_get_wal_records_info(%s, %s) WHERE resource_manager = "
                           "'Transaction' AND record_type = 'COMMIT' AND description LIKE %s",
                           (position, end, f"%rels:% {coupons_file}%"))
            return cursor.fetchone()[0] == 1

        check("the log position noted just before the migration that drops comes before the drop: a recovery that "
              "stops there stops before it",
              drop_comes_after, noted, contrast="the position read after the migration", against=lambda: read_after,
              observed=lambda position: f"position {position}; migration ended at {end}", guide=GUIDE, engine=engine)


def test_the_guide_shows_the_commands_the_lab_runs():
    """The guide's tables of tools show each command with the options lab.backups passes (connection options
    aside), and the targeted export's statements as the lab writes them for release 3's drop."""
    guide = (REPO / "guides" / f"{GUIDE}.md").read_text()
    b = demo.backups
    legacy, coupons = demo.DROPPED["legacy codes"], demo.DROPPED["coupons"]
    select = b._select(legacy.table, list(legacy.columns), "id", legacy.where)
    shown = [
        "pg_dump --format=custom", "pg_restore --no-owner --exit-on-error",
        "mariadb-dump --single-transaction --routines --triggers",
        f"psql {' '.join(b.PSQL_OPTIONS)}", b._create(legacy.into, legacy.columns),
        b.PSQL_EXPORT.format(select=select, path="legacy_codes.csv"),
        b.PSQL_LOAD.format(table=legacy.into, columns=", ".join(legacy.columns), path="legacy_codes.csv"),
        f"mariadb {' '.join(b.MARIADB_EXPORT_OPTIONS)}", f"mariadb {' '.join(b.MARIADB_LOAD_OPTIONS)}",
        b.MARIADB_LOAD.format(path="legacy_codes.tsv", table=legacy.into, columns=", ".join(legacy.columns), nulls=""),
        b.SQLITE_EXPORT.format(exported=b.EXPORTED, select=select),
        b.SQLITE_LOAD.format(table=legacy.into, columns=", ".join(legacy.columns), exported=b.EXPORTED),
        select, b._select(coupons.table, list(coupons.columns), "id", coupons.where),
    ]
    text = re.sub(r"\s+", " ", guide)
    missing = [command for command in shown if command not in text]
    assert not missing, f"guides/{GUIDE}.md does not show what the lab runs: {missing}"


@pytest.mark.parametrize(("release", "app_label", "migration"), demo.SQL)
def test_sql_shown_in_the_guide_is_what_sqlmigrate_prints(engine, new_database, release, app_label, migration):
    problem = evidence.sql_mismatch(GUIDE, release, app_label, migration, new_database(engine))
    assert problem is None, problem
