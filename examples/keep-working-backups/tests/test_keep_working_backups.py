"""The claims of guides/keep-working-backups.md, checked on real engines."""

from pathlib import Path

import pytest

from lab import evidence
from lab.claims import check
from lab.deploy import DeployReport
from lab.engines import sqlite_engine
from lab.releases import example_module, releases
from lab.story import Story

demo = example_module("keep-working-backups", "demonstration")
GUIDE = demo.SLUG
QUIET = Story(quiet=True)
ROWS = 10_000


@pytest.fixture(scope="module")
def drill(engine, module_databases, tmp_path_factory):
    """The drill, once per engine: backup while release 2 serves, release 3's drop, the restore."""
    return demo.drill(engine, ROWS, QUIET, module_databases, Path(tmp_path_factory.mktemp("backups")))


@pytest.mark.parametrize("release", releases(GUIDE), ids=lambda r: r.name)
def test_makemigrations_check_is_clean_at_every_release(release, new_database):
    result = release.run("makemigrations", "--check", "--dry-run", database=new_database(sqlite_engine()))
    assert result.ok, f"{release.name}: models and migrations differ:\n{result.stdout}{result.stderr}"


@pytest.mark.rolls
def test_the_restore_gives_back_everything_the_drop_destroyed(drill, engine, module_databases, tmp_path_factory):
    before = drill["before"]
    # The filled rows, and those release 1 added while release 2 rolled out; release 2 changes none of them.
    assert before["legacy codes"][0] >= ROWS and before["coupons"][0] >= ROWS // 10, before
    assert drill["unchanged"], "the data release 3 drops changed while release 2 served"
    def backup_taken_before_the_rollout():
        """What a team restores that took its backup before deploying release 2: the old backup of the last night,
        say. Release 1 added products and coupons during the rollout that it does not hold."""
        database = module_databases(engine)
        demo.shop(database, ROWS, QUIET)
        path = Path(tmp_path_factory.mktemp("early")) / f"early-{engine.id}"
        demo.backups.backup(database, path)
        demo.rolling(database, demo.RELEASE_1, demo.RELEASE_2, QUIET, [demo.TABLE, demo.COUPONS])
        later = demo.destroyed(database)
        restored = module_databases(engine)
        demo.backups.restore(path, restored)
        return later, demo.destroyed(restored)

    check("restored into a new database, the backup holds every legacy code and coupon that release 3 dropped",
          lambda found: demo.lost(*found) == 0, (before, drill["back"]),
          contrast="a backup taken before release 2 rolled out", against=backup_taken_before_the_rollout,
          observed=lambda found: f"{demo.lost(*found)} rows missing", guide=GUIDE, engine=engine)


@pytest.mark.rolls
def test_the_backup_taken_while_the_site_serves_fails_no_request(drill, engine):
    """A smoke test, not a claim: without request timeouts no backup method fails a request; pg_dump's lock, which
    lets every read and write through, is the claim (next test)."""
    report: DeployReport = drill["backup"]
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
    runs["no_dump"] = demo.verbs.serve_while(quiet, demo.RELEASE_2, "Release 3's migration, no dump running",
                                             lambda: demo.RELEASE_3.run("migrate", database=quiet), QUIET,
                                             [demo.TABLE, demo.COUPONS])
    return runs


def _queued_behind_the_dump(report: DeployReport) -> bool:
    """The migration waited 100 ms or more for its lock, and requests were seen waiting behind it."""
    locks = report.locks
    return (report.migration.ok and locks.longest(locks.waits("migrate", demo.TABLE)) >= 100
            and bool(locks.waits("workload", demo.TABLE)))


def test_a_migration_during_pg_dump_waits_for_it_and_requests_queue_behind(during_dump, engine):
    check("release 3's migration, started while pg_dump runs, waits for the dump, and requests queue behind it",
          _queued_behind_the_dump, during_dump["plain"],
          contrast="the same migration with no dump running", against=lambda: during_dump["no_dump"],
          observed=DeployReport.summary, guide=GUIDE, engine=engine)


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


@pytest.mark.parametrize(("release", "app_label", "migration"), demo.SQL)
def test_sql_shown_in_the_guide_is_what_sqlmigrate_prints(engine, new_database, release, app_label, migration):
    problem = evidence.sql_mismatch(GUIDE, release, app_label, migration, new_database(engine))
    assert problem is None, problem
