"""The claims of guides/add-index-concurrently.md, checked on real engines."""

import re
import time
from types import SimpleNamespace

import pytest

from lab import evidence, schema
from lab.claims import check
from lab.deploy import migrate
from lab.releases import example_module, releases
from lab.story import Story

demo = example_module("add-index-concurrently", "demonstration")
GUIDE = demo.SLUG
ROWS = 1_000_000  # big enough that a plain build blocks writers for a visible time
QUIET = Story(quiet=True)


@pytest.fixture(scope="module")
def pg_deploys(postgresql_engine):
    """Each way of building the index, deployed once per PostgreSQL engine on a fresh filled table."""
    runs = {}
    for label, release in (("unsafe", demo.UNSAFE), ("safe", demo.SAFE)):
        database = postgresql_engine.create_database()
        demo.orders_table(database, ROWS, QUIET)
        runs[label] = SimpleNamespace(database=database, report=demo.deploy(database, release, QUIET))
    yield runs
    for run in runs.values():
        run.database.drop()


@pytest.mark.parametrize("release", releases(GUIDE), ids=lambda r: r.name)
def test_every_release_matches_its_migrations(release, new_database):
    from lab.engines import sqlite_engine

    result = release.run("makemigrations", "--check", "--dry-run", database=new_database(sqlite_engine()))
    assert result.ok, f"{release.name}: models and migrations differ:\n{result.stdout}{result.stderr}"


def test_plain_index_build_blocks_writes_but_not_reads(pg_deploys, postgresql_engine):
    report = pg_deploys["unsafe"].report
    assert report.migration.ok, report.migration.stderr
    locks = report.locks
    held = locks.held("release_2_unsafe:migrate", demo.TABLE)
    share = [span for span in held if span.mode == "ShareLock"]
    check(bool(share), guide=GUIDE, claim="AddIndex takes a SHARE lock on the table",
          engine=postgresql_engine, observed=locks.summary())
    build_ms = locks.longest(share)
    writer_wait = report.old_during_migration("write")
    check(bool(locks.waits("release_1:workload", demo.TABLE)) and writer_wait >= 0.5 * build_ms,
          guide=GUIDE, claim="writers wait for as long as the plain index build takes",
          engine=postgresql_engine,
          observed=f"build held SHARE for {build_ms:.0f} ms, worst write {writer_wait:.0f} ms\n{report.summary()}")
    reader_waits = [w for w in locks.waits("workload") if w.mode == "AccessShareLock"]
    check(not reader_waits, guide=GUIDE, claim="reads go on during a plain index build",
          engine=postgresql_engine, observed="\n".join(map(str, reader_waits)))
    assert not report.failures, report.summary()


def test_concurrent_build_lets_writes_through(pg_deploys, postgresql_engine):
    unsafe, safe = pg_deploys["unsafe"].report, pg_deploys["safe"].report
    assert safe.migration.ok, safe.migration.stderr
    modes = safe.locks.modes("release_2:migrate", demo.TABLE)
    check(modes == {"ShareUpdateExclusiveLock"}, guide=GUIDE,
          claim="AddIndexConcurrently takes only a SHARE UPDATE EXCLUSIVE lock, which writes do not wait for",
          engine=postgresql_engine, observed=safe.locks.summary())
    check(not safe.locks.waits("workload"), guide=GUIDE, claim="no request waits for a lock during a concurrent build",
          engine=postgresql_engine, observed=safe.locks.summary())
    safe_wait, unsafe_wait = safe.old_during_migration("write"), unsafe.old_during_migration("write")
    check(safe_wait <= unsafe_wait / 3, guide=GUIDE,
          claim="a writer's worst wait during a concurrent build is a small fraction of the plain build's",
          engine=postgresql_engine, observed=f"concurrent {safe_wait:.0f} ms, plain {unsafe_wait:.0f} ms")
    assert not safe.failures, safe.summary()
    assert schema.indexes(pg_deploys["safe"].database, demo.TABLE)[demo.INDEX] is True


def test_index_has_a_meaningful_name_within_djangos_limit(new_database):
    from lab.engines import sqlite_engine

    database = new_database(sqlite_engine())
    result = demo.SAFE.run("sqlmigrate", "shop", "0002", database=database)
    assert result.ok, result.stderr
    names = re.findall(r'CREATE INDEX (?:CONCURRENTLY )?"(\w+)"', result.stdout)
    assert names == [demo.INDEX], result.stdout
    assert len(demo.INDEX) <= 30, "Django refuses index names over 30 characters (models.E034)"
    assert demo.SAFE.run("check", database=database).ok


def test_failed_concurrent_build_leaves_an_invalid_index_that_repair_removes(postgresql_engine, new_database):
    database = new_database(postgresql_engine)
    demo.orders_table(database, ROWS // 3, QUIET)  # the build need only last long enough to interrupt
    migration = demo.SAFE.start("migrate", "--no-input", database=database, role="migrate")
    cancelled = _cancel_index_build(database)
    out, err = migration.communicate(timeout=120)
    assert cancelled and migration.returncode != 0, f"the build was not interrupted: {out}{err}"

    check(schema.indexes(database, demo.TABLE).get(demo.INDEX) is False, guide=GUIDE,
          claim="an interrupted concurrent build leaves the index behind, INVALID",
          engine=postgresql_engine, observed=str(schema.indexes(database, demo.TABLE)))
    again = migrate(demo.SAFE, database)
    check(not again.ok and "already exists" in again.stderr, guide=GUIDE,
          claim="running the migration again fails while the invalid index exists",
          engine=postgresql_engine, observed=again.stderr[-400:])

    found = demo.SAFE.run("repair_invalid_indexes", "--check", database=database)
    assert not found.ok and f"INVALID index {demo.INDEX}" in found.stdout, found.stdout + found.stderr
    repaired = demo.SAFE.run("repair_invalid_indexes", database=database)
    assert repaired.ok and f"Dropped {demo.INDEX}" in repaired.stdout, repaired.stdout + repaired.stderr
    assert migrate(demo.SAFE, database).ok
    assert schema.indexes(database, demo.TABLE)[demo.INDEX] is True
    assert "No invalid indexes" in demo.SAFE.run("repair_invalid_indexes", "--check", database=database).stdout


def _cancel_index_build(database, timeout: float = 60) -> bool:
    """Cancel the migration's CREATE INDEX CONCURRENTLY as soon as it runs, as a killed deploy would."""
    deadline = time.monotonic() + timeout
    with database.connect() as connection:
        cursor = connection.cursor()
        while time.monotonic() < deadline:
            # Once the build has committed the index's catalog entry, as a build interrupted mid-way has.
            cursor.execute(
                "SELECT pg_cancel_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'release_2:migrate' AND query ILIKE 'CREATE INDEX CONCURRENTLY%%' "
                "AND state = 'active' AND EXISTS (SELECT 1 FROM pg_class WHERE relname = %s)",
                (demo.INDEX,),
            )
            if cursor.fetchall():
                return True
            time.sleep(0.002)
    return False


def test_mariadb_builds_a_plain_index_online(mariadb_engine, new_database):
    database = new_database(mariadb_engine)
    demo.orders_table(database, ROWS, QUIET)
    report = demo.deploy(database, demo.UNSAFE, QUIET)
    assert report.migration.ok, report.migration.stderr
    build = [s for s in report.locks.spans if s.granted and "CREATE INDEX" in s.who]
    build_ms = report.locks.longest(build)
    writer_wait = report.old_during_migration("write")
    check(build_ms > 0 and writer_wait <= build_ms / 4, guide=GUIDE,
          claim="MariaDB builds a plain index online: writers' worst wait is a small fraction of the build",
          engine=mariadb_engine,
          observed=f"build {build_ms:.0f} ms, worst write {writer_wait:.0f} ms\n{report.summary()}")
    assert not report.failures, report.summary()


def test_safe_release_deploys_without_a_failed_request(engine, new_database):
    database = new_database(engine)
    demo.orders_table(database, 20_000, QUIET)
    report = demo.deploy(database, demo.SAFE, QUIET)
    assert report.migration.ok, report.migration.stderr
    check(not report.failures, guide=GUIDE, claim="the edited migration deploys with no failed request",
          engine=engine, observed=report.summary())
    assert demo.INDEX in schema.indexes(database, demo.TABLE)


@pytest.mark.parametrize(("release", "app_label", "migration"), demo.SQL)
def test_sql_shown_in_the_guide_is_what_sqlmigrate_prints(engine, new_database, release, app_label, migration):
    if reason := evidence.sql_from_other_django(GUIDE):
        pytest.skip(reason)
    problem = evidence.sql_mismatch(GUIDE, release, app_label, migration, new_database(engine))
    assert problem is None, problem
