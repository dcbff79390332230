"""The claims of guides/add-a-column-and-fill-it.md, checked on real engines."""

import functools
import re
import signal
import subprocess
import sys
import time

import pytest

from lab import evidence
from lab.claims import check
from lab.deploy import DeployReport, migrate, run_sql, while_serving
from lab.engines import sqlite_engine
from lab.releases import CommandRun, example_dir, example_module, releases
from lab.site_verbs import ServingSite, SiteDeployReport
from lab.story import Story

demo = example_module("add-a-column-and-fill-it", "demonstration")
GUIDE = demo.SLUG
SMALL, LARGE = 10_000, 1_000_000  # the two sizes the guide compares
TIGHTEN_ROWS = 1_200_000  # the scan far longer than the brief locks around it, even on a fast machine
FILL_ROWS = 200_000
QUIET = Story(quiet=True)


def added(engine, release, rows):
    database = engine.create_database()
    try:
        demo.customers_table(database, rows, QUIET)
        return demo.deploy(database, demo.RELEASE_1, release, QUIET)
    finally:
        database.drop()


@pytest.fixture(scope="module")
def additions(postgresql_engine):
    """Each way of adding the column, deployed once per PostgreSQL engine: at both sizes where a claim compares
    them (the volatile default, and its contrast, the nullable column), else at the large one."""
    return {
        (name, rows): added(postgresql_engine, release, rows)
        for name, release, sizes in (("nullable", demo.NULLABLE, (SMALL, LARGE)),
                                     ("db_default", demo.DB_DEFAULT, (LARGE,)),
                                     ("volatile", demo.VOLATILE, (SMALL, LARGE)))
        for rows in sizes
    }


def held_ms(report, mode: str) -> float:
    """The longest the migration was seen holding ``mode`` on the table."""
    return report.locks.longest([span for span in report.locks.held("migrate", demo.TABLE) if span.mode == mode])


def exclusive_ms(report) -> float:
    """The longest the migration held ACCESS EXCLUSIVE (the lock that stops reads and writes)."""
    return held_ms(report, "ACCESS EXCLUSIVE")


def stalled_ms(report: DeployReport, kind: str) -> float:
    """The longest time while the migration ran in which no request of ``kind`` completed: a stall, not the worst
    latency, because on the site a request that waits past nginx's timeout ends as a 504."""
    return report.during_migration(kind)["longest_stall_ms"]


@pytest.mark.parametrize("release", releases(GUIDE), ids=lambda r: r.name)
def test_makemigrations_check_is_clean_at_every_release(release, new_database):
    result = release.run("makemigrations", "--check", "--dry-run", database=new_database(sqlite_engine()))
    assert result.ok, f"{release.name}: models and migrations differ:\n{result.stdout}{result.stderr}"


@pytest.mark.measures
@pytest.mark.parametrize("name", ["nullable", "db_default"])
def test_adding_a_nullable_or_constant_default_column_is_quick_at_any_size(additions, postgresql_engine, name):
    large = additions[(name, LARGE)]
    assert large.migration.ok, large.migration.stderr
    check(f"adding a {name} column locks the table for milliseconds, even at {LARGE:,} rows: no session of the "
          "site waits 100 ms for it, and no request fails",
          lambda r: exclusive_ms(r) <= 50 and r.longest_site_wait_ms() < 100 and not r.failures, large,
          contrast=f"a column with a volatile default at {LARGE:,} rows",
          against=lambda: additions[("volatile", LARGE)],
          observed=lambda r: f"ACCESS EXCLUSIVE held {exclusive_ms(r):.0f} ms; the site's longest lock wait "
                             f"{r.longest_site_wait_ms():.0f} ms\n{r.summary()}",
          guide=GUIDE, engine=postgresql_engine)


@pytest.mark.measures
def test_the_brief_lock_waits_behind_an_open_transaction_and_everyone_queues(additions, postgresql_engine,
                                                                             new_database):
    def queued():
        database = new_database(postgresql_engine)
        demo.customers_table(database, SMALL, QUIET)
        return demo.queued_behind_a_transaction(database, QUIET)

    def everyone_queued(r):
        waited = r.locks.longest(r.locks.waits("migrate", demo.TABLE))
        return waited >= 200 and all(stalled_ms(r, kind) >= 0.5 * waited for kind in ("read", "write"))

    check("ADD COLUMN's brief lock waits behind an open transaction, and reads and writes queue behind it",
          everyone_queued, queued(), contrast="the same deploy with no transaction open",
          against=lambda: additions[("nullable", SMALL)], observed=DeployReport.summary, guide=GUIDE,
          engine=postgresql_engine)


def test_djangos_now_is_one_value_for_every_row_and_no_rewrite(postgresql_engine, new_database):
    database = new_database(postgresql_engine)
    demo.customers_table(database, SMALL, QUIET)
    compiled = demo.RELEASE_1.run(
        "shell", "-c", "from django.apps import apps; from django.db.models.functions import Now; "
        "print(apps.get_model('shop', 'Customer').objects.annotate(at=Now()).query)", database=database)
    assert compiled.ok and "STATEMENT_TIMESTAMP()" in compiled.stdout, compiled.stdout + compiled.stderr

    def added_with(default: str) -> dict:
        with database.connect() as connection:
            cursor = connection.cursor()
            cursor.execute("SELECT pg_relation_filenode(%s)", (demo.TABLE,))
            before = cursor.fetchone()[0]
            column = f"seen_{default.split('(')[0].lower()}"
            cursor.execute(f"ALTER TABLE {demo.TABLE} ADD COLUMN {column} timestamptz DEFAULT {default}")
            cursor.execute(f"SELECT pg_relation_filenode(%s), COUNT(DISTINCT {column}) FROM {demo.TABLE}",
                           (demo.TABLE,))
            after, distinct = cursor.fetchone()
        return {"rewritten": after != before, "distinct values": distinct}

    check("Django's Now() (STATEMENT_TIMESTAMP() on PostgreSQL) as a default writes no row: one value for all",
          lambda r: not r["rewritten"] and r["distinct values"] == 1, added_with("STATEMENT_TIMESTAMP()"),
          contrast="a per-row clock, clock_timestamp()", against=lambda: added_with("clock_timestamp()"),
          guide=GUIDE, engine=postgresql_engine)


@pytest.mark.measures
def test_a_volatile_default_rewrites_the_table_under_lock(additions, postgresql_engine):
    def grows(pair):
        small, large = pair
        return exclusive_ms(large) >= 100 and exclusive_ms(large) >= 5 * max(exclusive_ms(small), 1)

    check("a volatile default rewrites every row, and the lock grows with the table", grows,
          (additions[("volatile", SMALL)], additions[("volatile", LARGE)]),
          contrast="a nullable column at the same two sizes",
          against=lambda: (additions[("nullable", SMALL)], additions[("nullable", LARGE)]),
          observed=lambda pair: f"{SMALL:,} rows: {exclusive_ms(pair[0]):.0f} ms; "
                                f"{LARGE:,} rows: {exclusive_ms(pair[1]):.0f} ms",
          guide=GUIDE, engine=postgresql_engine)

    def everyone_waits(r):
        held = exclusive_ms(r)
        return held >= 100 and all(
            stalled_ms(r, kind) >= 0.5 * held and r.completed_under_lock(kind, demo.TABLE) == 0
            for kind in ("read", "write"))

    check("reads and writes alike wait for the whole rewrite", everyone_waits, additions[("volatile", LARGE)],
          contrast=f"a nullable column at {LARGE:,} rows", against=lambda: additions[("nullable", LARGE)],
          observed=DeployReport.summary, guide=GUIDE, engine=postgresql_engine)


@pytest.fixture(scope="module")
def default_deploy(module_databases):
    """``default_deploy(engine, release)``: ``release`` deployed on 1,000 customers while release 1's site serves,
    once per engine in this module (two tests read the deploy of Django's default= alone)."""
    made: dict[tuple[str, str], SiteDeployReport] = {}

    def deployed(engine, release) -> SiteDeployReport:
        if (engine.id, release.name) not in made:
            database = module_databases(engine)
            demo.customers_table(database, 1_000, QUIET)
            made[engine.id, release.name] = demo.deploy(database, demo.RELEASE_1, release, QUIET)
        return made[engine.id, release.name]

    return deployed


def test_django_default_alone_breaks_the_old_codes_inserts_and_db_default_fixes_it(engine, default_deploy):
    broken, fixed = default_deploy(engine, demo.DEFAULT_ONLY), default_deploy(engine, demo.DB_DEFAULT)
    check("with default= alone the database has no default, so release 1's inserts fail",
          lambda r: "loyalty_points" in " ".join(r.old.errors), broken,
          contrast="the same column with db_default", against=lambda: fixed,
          observed=DeployReport.summary, guide=GUIDE, engine=engine)
    check("with db_default, release 1's inserts get the default",
          lambda r: r.old.operations > 0 and not r.failures, fixed,
          contrast="the same column with default= alone", against=lambda: broken,
          observed=DeployReport.summary, guide=GUIDE, engine=engine)


def test_fill_command_resumes_after_being_killed_and_is_idempotent(engine, new_database):
    database = new_database(engine)
    demo.customers_table(database, FILL_ROWS, QUIET, release=demo.NULLABLE)
    command = demo.NULLABLE.start("fill_loyalty_points", "--batch-size", "1000", "--pause", "0.01",
                                  database=database, role="fill")
    progress = [command.stdout.readline() for _ in range(4)]  # its plan, then three batches
    command.send_signal(signal.SIGKILL)
    command.wait(timeout=30)
    assert progress[0].startswith(f"Filling ids 1 to {FILL_ROWS:,}") and _batches("".join(progress[1:])), progress
    resume_at = _first_empty_id(database)
    assert 1 < resume_at < FILL_ROWS, f"the kill should land half-way; the first empty row is {resume_at}"
    # Meanwhile the site gives the last customer, still empty, points of its own: the fill must keep them.
    assert _points(database, FILL_ROWS) is None
    assert run_sql(database, f"UPDATE {demo.TABLE} SET {demo.COLUMN} = -1 WHERE id = {FILL_ROWS}").ok

    usage = demo.NULLABLE.run("fill_loyalty_points", "--help", database=database).stdout
    default = int(re.search(r"ids per batch\s+\(default\s+(\d+)\)", usage).group(1))
    resumed = demo.NULLABLE.run("fill_loyalty_points", database=database)
    assert resumed.ok and f"{default:,} ids per batch" in resumed.stdout, resumed.stdout + resumed.stderr
    assert _empty(database) == 0
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute(f"SELECT spent_cents, loyalty_points FROM {demo.TABLE} WHERE id <> {FILL_ROWS}")
        wrong = [row for row in cursor.fetchall() if row[1] != row[0] // 100]
    assert not wrong, f"{len(wrong)} rows do not hold a point per euro spent, e.g. {wrong[:3]}"
    again = demo.NULLABLE.run("fill_loyalty_points", database=database)

    @functools.cache
    def rewound() -> CommandRun:
        """The fill run again after the rows the killed run filled are emptied again."""
        assert run_sql(database, f"UPDATE {demo.TABLE} SET {demo.COLUMN} = NULL WHERE id < {resume_at}").ok
        return demo.NULLABLE.run("fill_loyalty_points", database=database)

    def picks_up_where_it_stopped(run: CommandRun) -> bool:
        # Its batches start at the first row left empty and cover the rest once, in batches of the default size.
        expected = [(start, min(start + default - 1, FILL_ROWS)) for start in range(resume_at, FILL_ROWS + 1, default)]
        return run.ok and _batches(run.stdout) == expected

    check("stopped half-way, it resumes where it stopped", picks_up_where_it_stopped, resumed,
          contrast="the rows the killed run filled emptied again", against=rewound,
          observed=lambda run: run.stdout[:300] + run.stderr[-300:], guide=GUIDE, engine=engine)
    check("running it twice does nothing the second time", lambda run: "Nothing to fill" in run.stdout, again,
          contrast="a run with rows still empty", against=rewound,
          observed=lambda run: run.stdout[:300] + run.stderr[-300:], guide=GUIDE, engine=engine)

    def blindly_filled() -> int:
        blind = f"UPDATE {demo.TABLE} SET {demo.COLUMN} = spent_cents / 100 WHERE id >= {resume_at}"
        assert run_sql(database, blind).ok
        return _points(database, FILL_ROWS)

    check("a value the site wrote meanwhile is kept", lambda points: points == -1, _points(database, FILL_ROWS),
          contrast="the same range updated without asking which rows are still empty", against=blindly_filled,
          observed=lambda points: f"the last customer has {points} points (the site wrote -1)",
          guide=GUIDE, engine=engine)


def _empty(database) -> int:
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute(f"SELECT COUNT(*) FROM {demo.TABLE} WHERE loyalty_points IS NULL")
        return cursor.fetchone()[0]


@pytest.fixture(scope="module")
def fills(postgresql_engine):
    """The batched command and the single UPDATE, each while release 2's site serves, on the same size of table."""
    runs = {}
    for name, step in (("command", demo.fill_with_command), ("update", demo.fill_with_one_update)):
        database = postgresql_engine.create_database()
        try:
            demo.customers_table(database, FILL_ROWS, QUIET, release=demo.NULLABLE)
            with ServingSite(database, demo.NULLABLE, QUIET) as site:
                runs[name] = step(site)
            runs[name + "_left"] = _empty(database)
        finally:
            database.drop()
    return runs


PURCHASE = "record_a_purchase"  # release 2's write of the rows both fills change (ids under 1,000)


def purchases_stalled_ms(r: DeployReport) -> float:
    """The longest time while the fill ran in which no purchase completed. A purchase writes a row the fill changes
    and waits for the transaction that holds it; a stall, not the worst wait, since nginx ends a long one at 2 s."""
    start, end = r.migration.started, r.migration.ended
    done = sorted(s.ended for s in r.old.samples if s.name == PURCHASE and not s.error and start <= s.ended <= end)
    edges = [start, *done, end]
    return max(b - a for a, b in zip(edges, edges[1:])) * 1000


@pytest.mark.measures
def test_batched_fill_keeps_writers_flowing_unlike_one_update(fills, postgresql_engine):
    command, update = fills["command"], fills["update"]
    assert command.migration.ok and update.migration.ok, command.migration.stderr + update.migration.stderr
    assert fills["command_left"] == 0 and fills["update_left"] == 0

    def observed(r: DeployReport) -> str:
        return f"no purchase completed for {purchases_stalled_ms(r):.0f} ms\n{r.summary()}"

    check("during one big UPDATE, purchases (writes of rows it changed) stop for at least half of it: each waits "
          "until the UPDATE commits",
          lambda r: purchases_stalled_ms(r) >= 0.5 * r.migration.seconds * 1000, update,
          contrast="the batched fill command", against=lambda: command,
          observed=observed, guide=GUIDE, engine=postgresql_engine)
    # A sync worker serves one request at a time: the purchases that wait keep every worker, and reads queue too.
    check("during one big UPDATE, reads stop for at least half of it too: the purchases waiting for it take every "
          "sync worker of the site",
          lambda r: stalled_ms(r, "read") >= 0.5 * r.migration.seconds * 1000, update,
          contrast="the batched fill command", against=lambda: command,
          observed=lambda r: f"no read completed for {stalled_ms(r, 'read'):.0f} ms\n{r.summary()}",
          guide=GUIDE, engine=postgresql_engine)
    # A purchase waits for the batch that holds its row, at most: purchases keep completing. A third of the run
    # leaves room for a busy machine's scheduling and sits a factor of three under what one UPDATE does.
    check("the batched fill keeps writers flowing: purchases never stop for a third of its run, and no request fails",
          lambda r: not r.failures and purchases_stalled_ms(r) < r.migration.seconds * 1000 / 3,
          command, contrast="one UPDATE of every row", against=lambda: update,
          observed=observed, guide=GUIDE, engine=postgresql_engine)


@pytest.fixture(scope="module")
def tightenings(postgresql_engine):
    """NOT NULL three ways, each deployed while release 2's site serves, on a filled table."""
    runs = {}
    for name, release in (("steps", demo.TIGHTEN), ("plain", demo.TIGHTEN_PLAIN),
                          ("with_default", demo.TIGHTEN_WITH_DEFAULT)):
        database = postgresql_engine.create_database()
        try:
            demo.filled_release_2_table(database, TIGHTEN_ROWS, QUIET)
            runs[name] = demo.deploy(database, demo.NULLABLE, release, QUIET)
            runs[name + "_nullable"] = _is_nullable(database)
        finally:
            database.drop()
    return runs


def _is_nullable(database) -> bool:
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT is_nullable FROM information_schema.columns WHERE table_name = %s AND column_name = %s",
                       (demo.TABLE, demo.COLUMN))
        return cursor.fetchone()[0] == "YES"


@pytest.mark.measures
def test_not_null_in_steps_holds_the_exclusive_lock_only_briefly(tightenings, postgresql_engine):
    steps, plain = tightenings["steps"], tightenings["plain"]
    assert steps.migration.ok and plain.migration.ok, steps.migration.stderr + plain.migration.stderr
    assert not tightenings["steps_nullable"] and not tightenings["plain_nullable"]
    check("VALIDATE CONSTRAINT scans under SHARE UPDATE EXCLUSIVE, which lets reads and writes through",
          lambda r: "SHARE UPDATE EXCLUSIVE" in r.locks.modes("migrate", demo.TABLE), steps,
          contrast="AlterField as makemigrations wrote it", against=lambda: plain,
          observed=lambda r: r.locks.summary(), guide=GUIDE, engine=postgresql_engine)
    check("with a validated CHECK, SET NOT NULL skips its scan: ACCESS EXCLUSIVE for a fraction of the scan's time",
          lambda r: exclusive_ms(r) <= held_ms(r, "SHARE UPDATE EXCLUSIVE") / 3, steps,
          contrast="AlterField as makemigrations wrote it", against=lambda: plain,
          observed=lambda r: f"ACCESS EXCLUSIVE {exclusive_ms(r):.0f} ms, the scan under SHARE UPDATE EXCLUSIVE "
                             f"{held_ms(r, 'SHARE UPDATE EXCLUSIVE'):.0f} ms\n{r.locks.summary()}",
          guide=GUIDE, engine=postgresql_engine)
    assert not steps.failures, steps.summary()


# What Django's AlterField runs for null=True to NOT NULL with a default, in this order (base schema editor,
# _alter_field: "4-way default alteration").
FOUR_WAY = ("SET DEFAULT", "UPDATE", "SET NOT NULL", "DROP DEFAULT")


def _in_order(sql: str, pieces: tuple[str, ...]) -> bool:
    """Whether ``pieces`` all appear in ``sql``, in that order."""
    at = 0
    for piece in pieces:
        at = sql.find(piece, at)
        if at < 0:
            return False
    return True


def test_not_null_with_a_default_is_four_statements_in_one_transaction(postgresql_engine, new_database):
    def printed(release) -> str:
        return evidence.sqlmigrate(GUIDE, release.name, "shop", "0003", new_database(postgresql_engine))

    check("with a default, Django runs SET DEFAULT, an UPDATE of the empty rows, SET NOT NULL and DROP DEFAULT, "
          "in one transaction",
          lambda sql: sql.lstrip().startswith("BEGIN;") and sql.rstrip().endswith("COMMIT;")
          and _in_order(sql, FOUR_WAY), printed(demo.TIGHTEN_WITH_DEFAULT),
          contrast="the same AlterField without a default", against=lambda: printed(demo.TIGHTEN_PLAIN),
          guide=GUIDE, engine=postgresql_engine)


@pytest.mark.measures
def test_not_null_with_a_default_fills_and_scans_under_one_exclusive_lock(tightenings, postgresql_engine):
    with_default = tightenings["with_default"]
    assert with_default.migration.ok, with_default.migration.stderr
    assert not tightenings["with_default_nullable"]

    def everyone_waits(r: DeployReport) -> bool:
        # The migration's longest lock spans its scans (the UPDATE's and SET NOT NULL's). Under ACCESS EXCLUSIVE
        # for all of it, the slowest read and write wait at least half of it, and none gets through meanwhile.
        scans = r.longest_lock(demo.TABLE)
        spans = [span for span in r.locks.held("migrate", demo.TABLE) if span.mode == "ACCESS EXCLUSIVE"]
        exclusive = max(spans, key=lambda span: span.ms, default=None)
        return scans is not None and exclusive is not None and scans.ms >= 20 and exclusive.ms >= 0.9 * scans.ms \
            and all(stalled_ms(r, kind) >= 0.5 * scans.ms
                    and not r.old.completed_within(kind, exclusive.first, exclusive.last) for kind in ("read", "write"))

    check("with a default, every read and write waits for the UPDATE and the scan under ACCESS EXCLUSIVE",
          everyone_waits, with_default, contrast="NOT NULL in short-locking steps (release 3)",
          against=lambda: tightenings["steps"],
          observed=lambda r: f"ACCESS EXCLUSIVE held {exclusive_ms(r):.0f} ms\n{r.summary()}",
          guide=GUIDE, engine=postgresql_engine)


# The SQL Django's own AlterField runs from release 2's state to another field, printed without running it.
ALTER_FIELD_SQL = """
import django
django.setup()
from django.db import connection, migrations, models
from django.db.migrations.loader import MigrationLoader
before = MigrationLoader(connection).project_state(("shop", "0002_customer_loyalty_points"))
operation = migrations.AlterField(model_name="customer", name="loyalty_points", field={field})
after = before.clone()
operation.state_forwards("shop", after)
with connection.schema_editor(collect_sql=True) as editor:
    operation.database_forwards("shop", editor, before, after)
print("\\n".join(editor.collected_sql))
"""


def _alter_field_sql(database, field: str) -> str:
    """What Django's AlterField from release 2's nullable column to ``field`` (Python source) runs."""
    done = subprocess.run(
        [sys.executable, "-c", ALTER_FIELD_SQL.format(field=field)], cwd=example_dir(GUIDE),
        env=demo.NULLABLE.environment(database, "manage"), capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_any_default_on_the_not_null_alter_field_brings_the_update_and_a_default_alone_runs_nothing(
        postgresql_engine, new_database):
    database = new_database(postgresql_engine)
    plain = functools.partial(_alter_field_sql, database, "models.IntegerField()")
    check("a db_default on the AlterField to NOT NULL also runs SET DEFAULT, the UPDATE, then SET NOT NULL",
          lambda sql: _in_order(sql, FOUR_WAY[:3]), _alter_field_sql(database, "models.IntegerField(db_default=0)"),
          contrast="the same AlterField without a default", against=plain, guide=GUIDE, engine=postgresql_engine)
    check("default= added in an AlterField of its own, the column still nullable, runs no SQL",
          lambda sql: not sql.strip(), _alter_field_sql(database, "models.IntegerField(null=True, default=0)"),
          contrast="default= on the AlterField to NOT NULL",
          against=lambda: _alter_field_sql(database, "models.IntegerField(default=0)"),
          guide=GUIDE, engine=postgresql_engine)


def test_every_step_deploys_without_a_failed_request(other_engine, new_database, default_deploy):
    """PostgreSQL's tests above check each step; here, the same steps on the other engines."""
    engine = other_engine
    database = new_database(engine)
    demo.customers_table(database, 5_000, QUIET)
    add = demo.deploy(database, demo.RELEASE_1, demo.NULLABLE, QUIET)
    with ServingSite(database, demo.NULLABLE, QUIET) as site:
        fill = demo.fill_with_command(site)
        tighten = site.deploy(demo.TIGHTEN, [demo.TABLE])

    def default_only():
        return default_deploy(engine, demo.DEFAULT_ONLY)

    check("adding the column nullable fails no request of the release still serving",
          lambda r: r.migration.ok and r.old.operations > 0 and not r.failures, add,
          contrast="a NOT NULL column with Django's default= only", against=default_only,
          observed=DeployReport.summary, guide=GUIDE, engine=engine)
    # The fill and the tightening on these engines: smoke tests, not claims. At 5,000 rows one big UPDATE or a plain
    # NOT NULL is far under nginx's timeout and fails no request either; what they cost is waits, which the guide
    # gives as figures.
    for step in (fill, tighten):
        assert step.migration.ok and step.old.operations > 0 and not step.failures, step.summary()
    assert _empty(database) == 0


@pytest.mark.parametrize(("release", "app_label", "migration"), demo.SQL)
def test_sql_shown_in_the_guide_is_what_sqlmigrate_prints(engine, new_database, release, app_label, migration):
    problem = evidence.sql_mismatch(GUIDE, release, app_label, migration, new_database(engine))
    assert problem is None, problem


def _batches(output: str) -> list[tuple[int, int]]:
    """The id ranges the fill command reports, batch by batch."""
    return [(int(first.replace(",", "")), int(last.replace(",", "")))
            for first, last in re.findall(r"^ids ([\d,]+)-([\d,]+) of", output, re.MULTILINE)]


def _first_empty_id(database) -> int | None:
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute(f"SELECT MIN(id) FROM {demo.TABLE} WHERE {demo.COLUMN} IS NULL")
        return cursor.fetchone()[0]


def _points(database, customer: int) -> int | None:
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute(f"SELECT {demo.COLUMN} FROM {demo.TABLE} WHERE id = {customer}")
        return cursor.fetchone()[0]


def _speed(run: CommandRun) -> float:
    """The average speed the fill command reports when done, in rows per second."""
    found = re.search(r"\(([\d,]+) rows/s\)\.", run.stdout)
    return float(found.group(1).replace(",", "")) if found else float("nan")


THROTTLED_ROWS, SPEED_LIMIT = 20_000, 10_000


@pytest.mark.measures
def test_fill_command_keeps_under_its_speed_limit(postgresql_engine, new_database):
    database = new_database(postgresql_engine)
    demo.customers_table(database, THROTTLED_ROWS, QUIET, release=demo.NULLABLE)

    def fill(*flags: str) -> CommandRun:
        return demo.NULLABLE.run("fill_loyalty_points", "--batch-size", "1000", *flags, database=database)

    def unlimited() -> CommandRun:
        assert run_sql(database, f"UPDATE {demo.TABLE} SET {demo.COLUMN} = NULL").ok
        return fill()

    # No rest follows the last batch: the average may exceed the limit by that batch.
    check("--max-rows-per-second keeps the fill's average speed under the limit",
          lambda run: run.ok and _speed(run) <= SPEED_LIMIT * THROTTLED_ROWS / (THROTTLED_ROWS - 1_000),
          fill("--max-rows-per-second", str(SPEED_LIMIT)),
          contrast="the same fill without the limit", against=unlimited,
          observed=lambda run: run.stdout[-200:] + run.stderr[-300:], guide=GUIDE, engine=postgresql_engine)


def test_fill_command_refuses_bad_input_without_a_traceback(new_database):
    database = new_database(sqlite_engine())
    for flags, error in ((("--batch-size", "0"), "--batch-size must be at least 1"),
                         (("--pause", "-1"), "--pause cannot be negative"),
                         (("--max-rows-per-second", "0"), "--max-rows-per-second must be at least 1")):
        refused = demo.NULLABLE.run("fill_loyalty_points", *flags, database=database)
        assert refused.returncode == 1 and f"CommandError: {error}" in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr, refused.stderr


# A table where one row is left empty, for VALIDATE CONSTRAINT to fail on.
GAP_ROWS, GAP_ID = 2_000, 1_000
HELPER = f"{demo.TABLE}_{demo.COLUMN}_not_null_check"  # the CHECK constraint release 3's migration adds, then drops


def _table_with_an_empty_row(database) -> None:
    """Release 2's table, filled by the command, but for row ``GAP_ID``, emptied again."""
    demo.customers_table(database, GAP_ROWS, QUIET, release=demo.NULLABLE)
    assert demo.NULLABLE.run("fill_loyalty_points", database=database).ok
    assert run_sql(database, f"UPDATE {demo.TABLE} SET {demo.COLUMN} = NULL WHERE id = {GAP_ID}").ok


def _helper_constraint(database) -> bool | None:
    """Whether the helper CHECK constraint is validated; None when it is not there."""
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT convalidated FROM pg_constraint WHERE conname = %s", (HELPER,))
        row = cursor.fetchone()
        return None if row is None else row[0]


def _each_in_turn(database, statements: list[str]) -> CommandRun:
    """Run ``statements`` one by one, each committed on its own, as a non-atomic migration does; stop at a failure.
    The run returned spans them all."""
    runs = []
    for statement in statements:
        runs.append(run_sql(database, statement))
        if not runs[-1].ok:
            break
    first, last = runs[0], runs[-1]
    return CommandRun(tuple(statements), last.returncode, "", last.stderr, first.started, last.ended - first.started)


def _blind_steps_run_twice(database) -> CommandRun:
    """The migration's statements as sqlmigrate prints them, run blindly: they fail on the empty row, the row is
    filled, and they run again. What a migration that does not look at what a failed run left would do."""
    _table_with_an_empty_row(database)
    printed = evidence.sqlmigrate(GUIDE, demo.TIGHTEN.name, "shop", "0003", database)
    statements = [s for s in (line.strip() for line in printed.splitlines()) if s and not s.startswith("--")]
    first = _each_in_turn(database, statements)
    assert not first.ok and "is violated by some row" in first.stderr, first.stderr
    assert demo.NULLABLE.run("fill_loyalty_points", database=database).ok
    again = _each_in_turn(database, statements)
    assert "already exists" in again.stderr, again.stderr
    return again


def test_not_null_migration_runs_again_after_a_failed_validation(postgresql_engine, new_database):
    database = new_database(postgresql_engine)
    _table_with_an_empty_row(database)
    failed = migrate(demo.TIGHTEN, database)
    assert not failed.ok and "is violated by some row" in failed.stderr, failed.stderr[-400:]
    # What the failed run left: the column nullable, the constraint there but not validated.
    assert _is_nullable(database) and _helper_constraint(database) is False
    assert demo.NULLABLE.run("fill_loyalty_points", database=database).ok

    again = migrate(demo.TIGHTEN, database)
    check("after a failed validation, fill the empty rows and run the migration again", lambda run: run.ok, again,
          contrast="the same statements run again without looking at what the failed run left",
          against=lambda: _blind_steps_run_twice(new_database(postgresql_engine)),
          observed=lambda run: run.stderr[-400:] or "succeeded", guide=GUIDE, engine=postgresql_engine)
    assert not _is_nullable(database) and _helper_constraint(database) is None
    back = migrate(demo.TIGHTEN, database, "shop", "0002")
    assert back.ok and _is_nullable(database), back.stderr[-400:]


def test_on_postgresql_18_the_column_keeps_the_not_null_constraint_name_postgresql_gives(postgresql_engine,
                                                                                          new_database):
    if postgresql_engine.major < 18:
        pytest.skip("PostgreSQL keeps NOT NULL as a named constraint from version 18 on")
    expected = f"{demo.TABLE}_{demo.COLUMN}_not_null"

    def named(helper: str | None):
        """The NOT NULL constraints of the column after release 3's migration, or after its steps with ``helper``
        as the CHECK's name."""
        database = new_database(postgresql_engine)
        demo.customers_table(database, 1_000, QUIET, release=demo.NULLABLE)
        assert demo.NULLABLE.run("fill_loyalty_points", database=database).ok
        if helper is None:
            assert migrate(demo.TIGHTEN, database).ok
        else:
            assert _each_in_turn(database, [
                f"ALTER TABLE {demo.TABLE} ADD CONSTRAINT {helper} CHECK ({demo.COLUMN} IS NOT NULL) NOT VALID",
                f"ALTER TABLE {demo.TABLE} VALIDATE CONSTRAINT {helper}",
                f"ALTER TABLE {demo.TABLE} ALTER COLUMN {demo.COLUMN} SET NOT NULL",
                f"ALTER TABLE {demo.TABLE} DROP CONSTRAINT {helper}"]).ok
        with database.connect() as connection:
            cursor = connection.cursor()
            cursor.execute("SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'n' "
                           "AND conkey = ARRAY[(SELECT attnum FROM pg_attribute WHERE attrelid = %s::regclass "
                           "AND attname = %s)]::int2[]", [demo.TABLE, demo.TABLE, demo.COLUMN])
            return [row[0] for row in cursor.fetchall()]

    check(f"the column's NOT NULL constraint is named {expected}, as PostgreSQL 18 names it",
          lambda names: names == [expected], named(None),
          contrast=f"the steps with the CHECK named {expected}, which PostgreSQL then renames {expected}1",
          against=lambda: named(expected), guide=GUIDE, engine=postgresql_engine)


def test_a_not_valid_check_skips_the_rows_there_but_checks_every_insert_and_update(postgresql_engine, new_database):
    database = new_database(postgresql_engine)
    demo.customers_table(database, 1_000, QUIET, release=demo.NULLABLE)  # every row empty
    add = f"ALTER TABLE {demo.TABLE} ADD CONSTRAINT {HELPER} CHECK ({demo.COLUMN} IS NOT NULL) NOT VALID"

    def writes(constrained: bool) -> dict:
        if not constrained:
            assert run_sql(database, f"ALTER TABLE {demo.TABLE} DROP CONSTRAINT IF EXISTS {HELPER}").ok
        return {
            "empty rows kept": _empty(database),
            # An update of a row that was already there, not touching the column.
            "update": run_sql(database, f"UPDATE {demo.TABLE} SET spent_cents = spent_cents + 1 WHERE id = 7"),
            "insert": run_sql(database, f"INSERT INTO {demo.TABLE} (name, spent_cents) VALUES ('Bob', 0)"),
        }

    def checked(seen: dict) -> bool:
        return seen["empty rows kept"] >= 1_000 and all(
            not seen[write].ok and "violates check constraint" in seen[write].stderr for write in ("update", "insert"))

    assert run_sql(database, add).ok
    check("NOT VALID skips the rows already there, but every insert and update is checked", checked, writes(True),
          contrast="the same writes without the constraint", against=lambda: writes(False),
          observed=lambda seen: f"{seen['empty rows kept']} empty rows kept; "
                                f"update: {seen['update'].stderr or 'ok'}; insert: {seen['insert'].stderr or 'ok'}",
          guide=GUIDE, engine=postgresql_engine)


# Release 3's operation, applied by hand with another field: what it does when its AlterField changes more.
APPLY_OPERATION = """
import importlib, django
django.setup()
from django.db import connection, models
from django.db.migrations.loader import MigrationLoader
migration = importlib.import_module("release_3.migrations.0003_alter_customer_loyalty_points")
before = MigrationLoader(connection).project_state(("shop", "0002_customer_loyalty_points"))
operation = migration.SetNotNullWithoutLongLock(model_name="customer", name="loyalty_points", field={field})
after = before.clone()
operation.state_forwards("shop", after)
with connection.schema_editor(atomic=False) as editor:
    operation.database_forwards("shop", editor, before, after)
"""


def _alter_with(database, field: str) -> CommandRun:
    """Apply release 3's operation with ``field`` (Python source) to release 2's table, in a process of its own."""
    started = time.time()
    done = subprocess.run(
        [sys.executable, "-c", APPLY_OPERATION.format(field=field)], cwd=example_dir(GUIDE),
        env=demo.TIGHTEN.environment(database, "manage"), capture_output=True, text=True, timeout=120,
    )
    return CommandRun(("-c", field), done.returncode, done.stdout, done.stderr, started, time.time() - started)


def test_not_null_operation_refuses_any_other_change(postgresql_engine, new_database):
    database = new_database(postgresql_engine)
    demo.customers_table(database, 1_000, QUIET, release=demo.NULLABLE)
    assert demo.NULLABLE.run("fill_loyalty_points", database=database).ok

    def refused(run: CommandRun) -> bool:
        return not run.ok and "also changes: the type" in run.stderr and "db_default" in run.stderr

    refusal = _alter_with(database, "models.BigIntegerField(db_default=0)")
    assert _is_nullable(database), "a refused change must alter nothing"
    check("the operation refuses an AlterField that changes anything but NOT NULL", refused, refusal,
          contrast="the same operation changing NOT NULL only",
          against=lambda: _alter_with(database, "models.IntegerField()"),
          observed=lambda run: run.error_line() or "applied", guide=GUIDE, engine=postgresql_engine)


@pytest.mark.measures
def test_a_fill_in_the_migrations_transaction_makes_every_read_wait_for_it(postgresql_engine, new_database):
    """What a RunPython after the AddField amounts to: the ADD COLUMN and the fill in one transaction."""
    add = f"ALTER TABLE {demo.TABLE} ADD COLUMN {demo.COLUMN} integer NULL"
    fill = demo.single_update(postgresql_engine.vendor)

    # In-process clients, each reader on a thread of its own: the claim is which lock the database holds for how
    # long. On the site, the writes that wait for the fill's row locks take every sync worker, so reads queue there
    # in both variants (the guide says so).
    def while_release_1_serves(step) -> DeployReport:
        database = new_database(postgresql_engine)
        demo.customers_table(database, FILL_ROWS, QUIET)
        return while_serving(demo.RELEASE_1, database, lambda: step(database))

    def reads_wait_for_the_fill(report: DeployReport) -> bool:
        worst = report.during_migration("read")["max"]
        return report.migration.ok and worst >= 100 and worst >= 0.5 * report.migration.seconds * 1000

    check("a fill in the migration's transaction keeps the ADD COLUMN's lock until it commits: reads wait for it all",
          reads_wait_for_the_fill, while_release_1_serves(lambda database: run_sql(database, add, fill)),
          contrast="the ADD COLUMN committed on its own, then the same fill",
          against=lambda: while_release_1_serves(lambda database: _each_in_turn(database, [add, fill])),
          observed=DeployReport.summary, guide=GUIDE, engine=postgresql_engine)


def _mariadb_table_id(database) -> int:
    """InnoDB's id of the customers table: a rebuild makes a new table, with a new id."""
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT TABLE_ID FROM information_schema.INNODB_SYS_TABLES WHERE NAME = %s",
                       (f"{database.name}/{demo.TABLE}",))
        return cursor.fetchone()[0]


def _draws(database) -> dict:
    """Rows and distinct lucky_draw values: of the rows filled before the column came, and of the rows whose value
    differs from the first row's (inserted after the column came)."""
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute(f"SELECT COUNT(*), COUNT(DISTINCT lucky_draw) FROM {demo.TABLE} WHERE id <= {SMALL}")
        existing = cursor.fetchone()
        cursor.execute(f"SELECT COUNT(*), COUNT(DISTINCT lucky_draw) FROM {demo.TABLE} "
                       f"WHERE lucky_draw <> (SELECT lucky_draw FROM {demo.TABLE} WHERE id = 1)")
        return {"existing": existing, "others": cursor.fetchone()}


@pytest.mark.measures
def test_on_mariadb_a_per_row_default_is_added_instantly_with_one_value_for_every_existing_row(mariadb_engine,
                                                                                                new_database):
    def added(algorithm: str | None) -> dict:
        """release_2_volatile's column on a fresh table: by its migration while release 1 serves, or by the same
        statement with ALGORITHM=``algorithm`` forced."""
        database = new_database(mariadb_engine)
        demo.customers_table(database, SMALL, QUIET)
        before = _mariadb_table_id(database)
        if algorithm is None:
            report = demo.deploy(database, demo.RELEASE_1, demo.VOLATILE, QUIET)
            assert report.migration.ok and not report.failures, report.summary()
        else:
            printed = evidence.sqlmigrate(GUIDE, demo.VOLATILE.name, "shop", "0002", database)
            add = next(line for line in printed.splitlines() if line.startswith("ALTER TABLE")).rstrip(";")
            assert run_sql(database, f"{add}, ALGORITHM={algorithm}").ok
        return {"rebuilt": _mariadb_table_id(database) != before, **_draws(database)}

    def one_value_no_rebuild(seen: dict) -> bool:
        rows, distinct = seen["existing"]
        return not seen["rebuilt"] and rows == SMALL and distinct == 1

    deployed, copied = added(None), added("COPY")
    check("on MariaDB, db_default=Random() is added without rebuilding the table: every existing row gets one "
          "same value", one_value_no_rebuild, deployed,
          contrast="the same ADD COLUMN forced to ALGORITHM=COPY", against=lambda: copied,
          guide=GUIDE, engine=mariadb_engine)
    # Forced to COPY, the server rebuilds the table and draws for each row (a few draws may coincide).
    assert copied["rebuilt"] and copied["existing"][1] >= 0.99 * SMALL, copied
    # Rows inserted once the column is there get a value each; and the server accepts the statement as INSTANT.
    inserted, distinct = deployed["others"]
    assert inserted > 1 and distinct == inserted, deployed
    accepted = added("INSTANT")
    assert one_value_no_rebuild(accepted), accepted
