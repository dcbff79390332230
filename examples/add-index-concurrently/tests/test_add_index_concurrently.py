"""The claims of guides/add-index-concurrently.md, checked on real engines."""

import functools
import os
import re
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from types import SimpleNamespace

import pytest

from lab import evidence, schema, site_verbs, verbs
from lab.claims import check
from lab.copy_span import copy_ms
from lab.deploy import DeployReport, OpenTransaction, hold_lock, migrate, rolling_deploy, run_sql, while_serving
from lab.releases import example_dir, example_module, releases
from lab.site import Shape
from lab.story import Story

demo = example_module("add-index-concurrently", "demonstration")
GUIDE = demo.SLUG
ROWS = 1_000_000  # big enough that a plain build blocks writers for a visible time
QUIET = Story(quiet=True)
WORKERS = Shape().instances * Shape().workers  # the site's workers, each with a connection of its own


@pytest.fixture(scope="module")
def pg_deploys(postgresql_engine):
    """Each way of building the index, deployed once per PostgreSQL engine on a fresh filled table while release
    1's real site serves. ``at_the_database()`` is the plain build under the in-process workload, whose readers and
    writers each have a connection of their own, not a worker a waiting write can hold: what the database alone
    does; ``exclusive()`` is its contrast, the table held in ACCESS EXCLUSIVE as long while release 1 serves."""
    runs = {}
    databases = []

    def orders(rows: int):
        databases.append(postgresql_engine.create_database())
        demo.orders_table(databases[-1], rows, QUIET)
        return databases[-1]

    for label, release in (("unsafe", demo.UNSAFE), ("safe", demo.SAFE)):
        database = orders(ROWS)
        runs[label] = SimpleNamespace(database=database, report=demo.deploy(database, release, QUIET))

    @functools.cache
    def at_the_database():
        return rolling_deploy(demo.BEFORE, demo.UNSAFE, orders(ROWS), watch_tables=[demo.TABLE])

    @functools.cache
    def exclusive():
        database = orders(1_000)
        seconds = max(at_the_database().longest_lock(demo.TABLE).ms / 1000, 0.2)
        return while_serving(demo.BEFORE, database,
                             lambda: hold_lock(database, demo.TABLE, "ACCESS EXCLUSIVE", seconds),
                             watch_tables=[demo.TABLE])

    runs["at_the_database"], runs["exclusive"] = at_the_database, exclusive
    yield runs
    for database in databases:
        database.drop()


@pytest.mark.parametrize("release", releases(GUIDE), ids=lambda r: r.name)
def test_every_release_matches_its_migrations(release, new_database):
    from lab.engines import sqlite_engine

    result = release.run("makemigrations", "--check", "--dry-run", database=new_database(sqlite_engine()))
    assert result.ok, f"{release.name}: models and migrations differ:\n{result.stdout}{result.stderr}"


@pytest.mark.measures
def test_plain_index_build_blocks_writes_and_on_the_site_reads_too(pg_deploys, postgresql_engine):
    unsafe, safe = pg_deploys["unsafe"].report, pg_deploys["safe"].report
    assert unsafe.migration.ok, unsafe.migration.stderr
    check("AddIndex takes a SHARE lock on the table",
          lambda r: "SHARE" in r.locks.modes("migrate", demo.TABLE), unsafe,
          contrast="the concurrent build", against=lambda: safe, observed=lambda r: r.locks.summary(),
          guide=GUIDE, engine=postgresql_engine)
    check("writers wait for as long as the plain index build takes",
          lambda r: r.completed_under_lock("write", demo.TABLE) == 0
          and r.during_migration("write")["max"] >= 0.5 * r.longest_lock(demo.TABLE).ms,
          unsafe, contrast="the concurrent build", against=lambda: safe, observed=DeployReport.summary,
          guide=GUIDE, engine=postgresql_engine)
    check("at the database, reads go on during a plain index build: reads on connections of their own complete "
          "while the build holds its lock",
          lambda r: r.completed_under_lock("read", demo.TABLE) > 0 and r.during_migration("read")["waited"] == 0,
          pg_deploys["at_the_database"](), contrast="the table held in ACCESS EXCLUSIVE as long",
          against=pg_deploys["exclusive"], observed=DeployReport.summary, guide=GUIDE, engine=postgresql_engine)
    check("on the site, reads wait too: waiting writes hold every worker, and a read waits at least half the build",
          _reads_wait_behind_every_worker, unsafe,
          contrast="the same build with each read on a connection of its own, no worker to wait for",
          against=pg_deploys["at_the_database"], observed=DeployReport.summary, guide=GUIDE, engine=postgresql_engine)
    # What the guide says of this size: no request failed, the worst wait under nginx's upstream timeout.
    assert unsafe.figures(demo.TABLE)["request_worst_wait_ms"] < 1000 * Shape().upstream_timeout, unsafe.summary()
    assert not unsafe.failures, unsafe.summary()


def _reads_wait_behind_every_worker(report: DeployReport) -> bool:
    """Every worker's session was seen waiting for a lock on the table, and a read waited half the build or more."""
    waiting = {span.who for span in report.locks.waits(table=demo.TABLE) if "migrate" not in span.who}
    return (len(waiting) == WORKERS
            and report.during_migration("read")["max"] >= 0.5 * report.longest_lock(demo.TABLE).ms)


@pytest.mark.measures
def test_concurrent_build_lets_writes_through(pg_deploys, postgresql_engine):
    unsafe, safe = pg_deploys["unsafe"].report, pg_deploys["safe"].report
    assert safe.migration.ok, safe.migration.stderr
    check("AddIndexConcurrently takes only a SHARE UPDATE EXCLUSIVE lock, which writes do not wait for",
          lambda r: r.locks.modes("migrate", demo.TABLE) == {"SHARE UPDATE EXCLUSIVE"},
          safe, contrast="the plain build", against=lambda: unsafe, observed=lambda r: r.locks.summary(),
          guide=GUIDE, engine=postgresql_engine)
    check("no request waits for a lock during a concurrent build",
          lambda r: not r.site_waits(), safe, contrast="the plain build", against=lambda: unsafe,
          observed=lambda r: r.locks.summary(), guide=GUIDE, engine=postgresql_engine)
    check("writes go on during a concurrent build: writes complete while it holds its lock, none waits half of it",
          lambda r: r.completed_under_lock("write", demo.TABLE) > 0
          and r.during_migration("write")["max"] < 0.5 * r.longest_lock(demo.TABLE).ms,
          safe, contrast="the plain build", against=lambda: unsafe, observed=DeployReport.summary,
          guide=GUIDE, engine=postgresql_engine)
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
    database = _orders(postgresql_engine, new_database)
    check("an interrupted concurrent build leaves the index behind, INVALID",
          lambda deploy: deploy.index is False, _held_deploy(database, "cancel"),
          contrast="the same build left to finish",
          against=lambda: _held_deploy(_orders(postgresql_engine, new_database), "finish"),
          guide=GUIDE, engine=postgresql_engine)
    check("running the migration again stops while the invalid index exists, naming repair_invalid_indexes",
          lambda run: not run.ok and "already exists but is INVALID" in run.stderr
          and "repair_invalid_indexes" in run.stderr,
          migrate(demo.SAFE, database), contrast="the same migration with no index left behind",
          against=lambda: migrate(demo.SAFE, _orders(postgresql_engine, new_database)),
          observed=lambda run: run.stderr[-600:], guide=GUIDE, engine=postgresql_engine)

    found = demo.SAFE.run("repair_invalid_indexes", "--check", database=database)
    assert not found.ok and f"INVALID index {demo.INDEX}" in found.stdout, found.stdout + found.stderr
    repaired = demo.SAFE.run("repair_invalid_indexes", database=database)
    assert repaired.ok and f"Dropped {demo.INDEX}" in repaired.stdout, repaired.stdout + repaired.stderr
    assert migrate(demo.SAFE, database).ok
    assert schema.indexes(database, demo.TABLE)[demo.INDEX] is True
    assert "No invalid indexes" in demo.SAFE.run("repair_invalid_indexes", "--check", database=database).stdout


MIGRATE_PRINTING_TIMEOUTS = """
import django; django.setup()
from django.core.management import call_command
from django.db import connection
call_command("migrate", verbosity=0)
with connection.cursor() as cursor:
    cursor.execute("SELECT current_setting('lock_timeout'), current_setting('statement_timeout'), "
                   "current_setting('transaction_timeout', true)")
    print(*cursor.fetchone())
"""


def test_the_build_waits_whatever_lock_timeout_the_deploy_sets_then_gives_it_back(postgresql_engine, new_database):
    # PostgreSQL 17's transaction_timeout ends the session of a statement that outlasts it: 1 s, under the wait.
    transaction = postgresql_engine.major >= 17
    expected = ["300ms", "1min", "1s" if transaction else "None"]

    def built(statement: str | None):
        database = _orders(postgresql_engine, new_database)
        timed = database.with_options(options="-c lock_timeout=300ms -c statement_timeout=1min"
                                      + (" -c transaction_timeout=1s" if transaction else ""))
        # A report's snapshot, open 1.5 s: a concurrent build waits for it before it finishes.
        with OpenTransaction(database, "django_migrations", seconds=1.5, isolation="REPEATABLE READ"):
            run = demo.SAFE.run_python(MIGRATE_PRINTING_TIMEOUTS, database=timed) if statement is None \
                else run_sql(timed, statement)
        return run, schema.indexes(database, demo.TABLE).get(demo.INDEX)

    check("with a 300 ms lock timeout (and on PostgreSQL 17+ a 1 s transaction timeout) on migrate's connections, the "
          "build waits 1.5 s for an older snapshot and succeeds, and the session's timeouts are back after it",
          lambda found: found[0].ok and found[1] is True and found[0].stdout.split() == expected, built(None),
          contrast="the same build statement under that timeout",
          against=lambda: built(f"CREATE INDEX CONCURRENTLY {demo.INDEX} ON {demo.TABLE} (customer_id)"),
          observed=lambda found: f"index valid: {found[1]}\n{found[0].stdout}{found[0].stderr[-600:]}",
          guide=GUIDE, engine=postgresql_engine)


def test_the_migration_refuses_an_index_of_its_name_with_another_definition(postgresql_engine, new_database):
    def migrated(columns: str):
        database = _orders(postgresql_engine, new_database)
        # A valid index of that name left by an earlier attempt, on whatever it was built on then.
        assert run_sql(database, f"CREATE INDEX {demo.INDEX} ON {demo.TABLE} ({columns})").ok
        return migrate(demo.SAFE, database)

    check("the migration refuses a valid index of its name built on other columns, instead of taking it for its own",
          lambda run: not run.ok and "is not the index on (customer_id)" in run.stderr, migrated("total_cents"),
          contrast="a valid index of that name on customer_id, which a killed deploy's build finished",
          against=lambda: migrated("customer_id"), observed=lambda run: run.error_line(), guide=GUIDE,
          engine=postgresql_engine)


def test_repair_leaves_a_build_in_progress_alone(postgresql_engine, new_database):
    def repair(cancel_first=False):
        database = _orders(postgresql_engine, new_database)
        with _build_held_in_its_last_wait(database, _start_migration(database)) as build:
            if cancel_first:
                _cancel(database, build.pid)
                _wait_until_build_ends(database, build.pid)
            # A timeout, not a hang, if the command waits on the build it should leave alone.
            run = demo.SAFE.run("repair_invalid_indexes", database=database, timeout=60)
            left = schema.indexes(database, demo.TABLE).get(demo.INDEX)
        return SimpleNamespace(database=database, pid=build.pid, run=run, index=left,
                               migration=_finished(build.started))

    building = repair()
    check("repair_invalid_indexes leaves alone an index a build is still making, and names the build's pid",
          lambda seen: seen.run.ok and seen.index is False
          and f"still being built by pid {seen.pid}" in seen.run.stdout,
          building, contrast="the same invalid index, its build cancelled",
          against=lambda: repair(cancel_first=True),
          observed=lambda seen: f"index: {seen.index}\n{seen.run.stdout}{seen.run.stderr}",
          guide=GUIDE, engine=postgresql_engine)
    assert building.migration.returncode == 0, building.migration.stderr  # the build it left alone finished
    assert schema.indexes(building.database, demo.TABLE)[demo.INDEX] is True


def test_repair_leaves_reindex_leftovers_alone(postgresql_engine, new_database):
    def repair(rename_to=None):
        database = _orders(postgresql_engine, new_database)
        assert migrate(demo.SAFE, database).ok
        reindex = _start_sql(database, f"REINDEX INDEX CONCURRENTLY {demo.INDEX}")
        with _build_held_in_its_last_wait(database, reindex) as held:
            _cancel(database, held.pid)
        held.started.join()
        leftover = f"{demo.INDEX}_ccnew"
        if rename_to:
            assert run_sql(database, f"ALTER INDEX {leftover} RENAME TO {rename_to}").ok
        run = demo.SAFE.run("repair_invalid_indexes", database=database)
        return SimpleNamespace(run=run, index=schema.indexes(database, demo.TABLE).get(rename_to or leftover))

    check("repair_invalid_indexes leaves alone the _ccnew index of a failed REINDEX CONCURRENTLY, saying what to do",
          lambda seen: seen.run.ok and seen.index is False and "made by REINDEX CONCURRENTLY" in seen.run.stdout,
          repair(), contrast="the same invalid index under another name",
          against=lambda: repair(rename_to="order_customer_idx_copy"),
          observed=lambda seen: f"index: {seen.index}\n{seen.run.stdout}{seen.run.stderr}",
          guide=GUIDE, engine=postgresql_engine)


def test_migration_rerun_records_the_index_a_killed_deploy_finished(postgresql_engine, new_database):
    database = _orders(postgresql_engine, new_database)
    check("a deploy killed during a concurrent build can leave the index VALID, the migration unrecorded",
          lambda deploy: deploy.index is True and not deploy.recorded, _held_deploy(database, "kill"),
          contrast="the same build cancelled with the deploy",
          against=lambda: _held_deploy(_orders(postgresql_engine, new_database), "cancel"),
          guide=GUIDE, engine=postgresql_engine)

    def rerun(release, database):
        built = _index_oid(database)
        run = migrate(release, database)
        return SimpleNamespace(run=run, recorded=_recorded(database), same_index=_index_oid(database) == built)

    def generated_migration():
        other = _orders(postgresql_engine, new_database)
        _held_deploy(other, "kill")
        return rerun(demo.UNSAFE, other)

    check("running the migration again records it and keeps the index, without building it again",
          lambda seen: seen.run.ok and seen.recorded and seen.same_index, rerun(demo.SAFE, database),
          contrast="the generated migration (release_2_unsafe), which builds without looking",
          against=generated_migration,
          observed=lambda seen: f"recorded: {seen.recorded}, same index: {seen.same_index}\n{seen.run.stderr[-600:]}",
          guide=GUIDE, engine=postgresql_engine)


def test_failed_unique_concurrent_build_still_enforces_uniqueness(postgresql_engine, new_database):
    database = new_database(postgresql_engine)
    assert run_sql(database, "CREATE TABLE coupon (code integer)").ok
    assert run_sql(database, "INSERT INTO coupon SELECT generate_series(1, 100)").ok
    build = "CREATE UNIQUE INDEX CONCURRENTLY coupon_code_key ON coupon (code)"
    with _build_held_in_its_last_wait(database, _start_sql(database, build)) as held:
        _cancel(database, held.pid)
    held.started.join()
    assert "canceling statement" in held.started.result.stderr, held.started.result

    def duplicate_inserted():
        valid = schema.indexes(database, "coupon").get("coupon_code_key")
        return SimpleNamespace(valid=valid, insert=run_sql(database, "INSERT INTO coupon VALUES (1)"))

    def index_dropped():
        assert run_sql(database, "DROP INDEX coupon_code_key").ok
        return duplicate_inserted()

    check("a failed UNIQUE concurrent build leaves an INVALID index that still refuses duplicates",
          lambda seen: seen.valid is False and "duplicate key" in seen.insert.stderr, duplicate_inserted(),
          contrast="the invalid index dropped", against=index_dropped,
          observed=lambda seen: f"index valid: {seen.valid}; insert: {seen.insert.stderr or 'accepted'}",
          guide=GUIDE, engine=postgresql_engine)


def test_migration_loads_and_applies_without_psycopg(new_database, tmp_path):
    from lab.engines import sqlite_engine

    engine = sqlite_engine()

    def applied(migrations=None):
        return _migrate_without_a_postgresql_driver(new_database(engine), migrations)

    check("the edited migration loads and applies where no PostgreSQL driver is installed",
          lambda run: run.returncode == 0 and f"Applying shop.{MIGRATION}... OK" in run.stdout, applied(),
          contrast="the same migration importing django.contrib.postgres's AddIndexConcurrently",
          against=lambda: applied(_original_style_migrations(tmp_path)),
          observed=lambda run: run.stdout + run.stderr[-800:], guide=GUIDE, engine=engine)


@pytest.mark.measures
def test_mariadb_builds_a_plain_index_online(mariadb_engine, new_database):
    database = new_database(mariadb_engine)
    demo.orders_table(database, ROWS, QUIET)
    report = demo.deploy(database, demo.UNSAFE, QUIET)
    assert report.migration.ok, report.migration.stderr

    def copying():
        other = new_database(mariadb_engine)
        demo.orders_table(other, ROWS, QUIET)
        copy = f"ALTER TABLE {demo.TABLE} ADD INDEX {demo.INDEX} (customer_id), ALGORITHM=COPY, LOCK=SHARED"
        return site_verbs.deploy_on_site(other, demo.BEFORE, demo.UNSAFE, QUIET, [demo.TABLE],
                                         migrate_with=lambda: run_sql(other, copy))

    def online(r: DeployReport) -> bool:
        # The build runs from the first state the process list showed to the last, not for its longest state alone;
        # no request may fail either, because on the site a write that waits past nginx's timeout ends as a 504 and
        # its time stops there.
        return r.migration.ok and not r.failures and r.completed_under_lock("write", demo.TABLE) > 0 \
            and r.during_migration("write")["max"] < 0.5 * copy_ms(r, demo.TABLE)

    check("MariaDB builds a plain index online: writes complete during the build, none waits for half of it",
          online, report, contrast="the same index built with ALGORITHM=COPY, LOCK=SHARED", against=copying,
          observed=DeployReport.summary, guide=GUIDE, engine=mariadb_engine)


def test_safe_release_deploys_and_builds_its_index(engine, new_database):
    """A smoke test of the edited release on every engine, not a claim (the measured tests above compare the
    builds on the real site): the in-process workload has no timeouts, and the plain build fails none of its
    requests either."""
    database = new_database(engine)
    demo.orders_table(database, 20_000, QUIET)
    report = verbs.deploy(database, demo.BEFORE, demo.SAFE, QUIET, [demo.TABLE])
    assert report.migration.ok, report.migration.stderr
    assert report.old.operations > 0 and not report.failures, report.summary()
    assert demo.INDEX in schema.indexes(database, demo.TABLE)


@pytest.mark.parametrize(("release", "app_label", "migration"), demo.SQL)
def test_sql_shown_in_the_guide_is_what_sqlmigrate_prints(engine, new_database, release, app_label, migration):
    problem = evidence.sql_mismatch(GUIDE, release, app_label, migration, new_database(engine))
    assert problem is None, problem


MIGRATION = "0002_order_order_customer_idx"
WAITING_BUILD = ("SELECT pid FROM pg_stat_progress_create_index "
                 "WHERE datname = current_database() AND phase = 'waiting for old snapshots'")
# Runs django-admin ARGS as if neither psycopg nor psycopg2 were installed; $MIGRATIONS names other migrations.
WITHOUT_A_POSTGRESQL_DRIVER = """
import os, sys

class NoPostgreSQLDriver:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("psycopg", "psycopg2"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, NoPostgreSQLDriver())
if os.environ.get("MIGRATIONS"):
    import settings
    settings.MIGRATION_MODULES = {"shop": os.environ["MIGRATIONS"]}
from django.core.management import execute_from_command_line
execute_from_command_line(["django-admin", *sys.argv[1:]])
"""
# Release 2's migration as first written, on django.contrib.postgres's operation.
ORIGINAL_STYLE = """
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("shop", "0001_initial")]
    operations = [
        AddIndexConcurrently(model_name="order", index=models.Index(fields=["customer_id"], name="order_customer_idx")),
    ]
"""


def _orders(engine, new_database):
    """A new database with release 1's orders table, a thousand rows in it."""
    database = new_database(engine)
    demo.orders_table(database, 1_000, QUIET)
    return database


def _start_migration(database):
    """What starts release 2's migration, in a process of its own."""
    return lambda: demo.SAFE.start("migrate", "--no-input", database=database, role="migrate")


def _start_sql(database, sql):
    """What starts one statement in a thread; the thread's ``result`` is its :func:`run_sql` report."""
    def start():
        thread = threading.Thread(target=lambda: setattr(thread, "result", run_sql(database, sql)), daemon=True)
        thread.start()
        return thread
    return start


@contextmanager
def _build_held_in_its_last_wait(database, start, timeout: float = 60):
    """Start a concurrent build (CREATE INDEX or REINDEX) and hold it in its last wait, its index still INVALID.

    The build's last phase waits for every transaction older than its snapshot: a REPEATABLE READ
    transaction opened first holds it there. Yields the build's server ``pid`` and what ``start()``
    returned (``started``); ends the transaction on leaving, so that a build still running finishes.
    """
    with database.connect() as connection:
        holder = connection.cursor()
        holder.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        holder.execute("SELECT 1")  # the first statement takes the transaction's snapshot
        started, deadline = start(), time.monotonic() + timeout
        try:
            while not (pid := _first(database, WAITING_BUILD)):
                ended = not isinstance(started, threading.Thread) and started.poll() is not None
                assert not ended, f"the migration ended before its build waited: {started.stderr.read()}"
                assert time.monotonic() < deadline, f"no build waited for old snapshots within {timeout} s"
                time.sleep(0.02)
            yield SimpleNamespace(started=started, pid=pid)
        finally:
            holder.execute("ROLLBACK")


def _held_deploy(database, ending: str) -> SimpleNamespace:
    """Release 2's migration held in its build's last wait, then ended: "cancel" the build, "kill" the
    deploy's process (the server builds on), or let it "finish". The index and the record afterwards."""
    with _build_held_in_its_last_wait(database, _start_migration(database)) as build:
        if ending == "cancel":
            _cancel(database, build.pid)
        elif ending == "kill":
            build.started.kill()
    migration = _finished(build.started)
    _wait_until_build_ends(database, build.pid)
    return SimpleNamespace(index=schema.indexes(database, demo.TABLE).get(demo.INDEX), recorded=_recorded(database),
                           migration=migration)


def _finished(process, timeout: float = 120) -> SimpleNamespace:
    """A started command's exit code and output, once it ends."""
    stdout, stderr = process.communicate(timeout=timeout)
    return SimpleNamespace(returncode=process.returncode, stdout=stdout, stderr=stderr)


def _cancel(database, pid: int) -> None:
    assert run_sql(database, f"SELECT pg_cancel_backend({int(pid)})").ok


def _wait_until_build_ends(database, pid: int, timeout: float = 60) -> None:
    """Until the server process ``pid`` is no longer running a statement: its build committed or failed."""
    deadline = time.monotonic() + timeout
    while _first(database, f"SELECT pid FROM pg_stat_activity WHERE pid = {int(pid)} AND state = 'active'"):
        assert time.monotonic() < deadline, f"the build of pid {pid} still runs after {timeout} s"
        time.sleep(0.05)


def _first(database, sql: str):
    """The first column of the first row of ``sql``, or None."""
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute(sql)
        row = cursor.fetchone()
    return row[0] if row else None


def _recorded(database) -> bool:
    """Whether release 2's migration is recorded as applied."""
    return bool(_first(database, f"SELECT 1 FROM django_migrations WHERE app = 'shop' AND name = '{MIGRATION}'"))


def _index_oid(database):
    return _first(database, f"SELECT to_regclass('{demo.INDEX}')::oid")


def _migrate_without_a_postgresql_driver(database, migrations=None) -> subprocess.CompletedProcess:
    """Release 2's ``migrate`` in a process where psycopg and psycopg2 cannot be imported; ``migrations``
    is another migrations package to use (a folder)."""
    environment = demo.SAFE.environment(database, "migrate")
    if migrations:
        environment["PYTHONPATH"] = os.pathsep.join([str(migrations.parent), environment["PYTHONPATH"]])
        environment["MIGRATIONS"] = migrations.name
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_A_POSTGRESQL_DRIVER, "migrate", "--no-input"],
        cwd=example_dir(GUIDE), env=environment, capture_output=True, text=True, timeout=120,
    )


def _original_style_migrations(folder):
    """A migrations package in ``folder``: release 2's first migration, then ORIGINAL_STYLE."""
    package = folder / "original_style_migrations"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "0001_initial.py").write_text((demo.SAFE.path / "migrations" / "0001_initial.py").read_text())
    (package / f"{MIGRATION}.py").write_text(ORIGINAL_STYLE)
    return package
