"""The guide's story on a real database: a field and a model renamed while the old release serves; renamed in
Django only; and a column renamed by expand and contract, with and without the release that writes both.

Used by ``nox -s demo -- rename-a-field`` (to tell it), by ``nox -s evidence`` (to record it for the guide) and by
the tests (to check it).
"""

from __future__ import annotations

import time

from lab import verbs
from lab.deploy import migrate
from lab.releases import CommandRun, Release
from lab.site_deploy import LiveReport, LiveSite
from lab.rolling import RollingReport, rolling
from lab.story import Story

SLUG = "rename-a-field"
TABLE = "shop_product"
COUPONS = "shop_coupon"
COLUMNS = {"name": "'Teapot'", "code": "i"}  # the id as the code: a different value in every row
# What matters is what each release reads and writes, not the table's size: every step runs on this many rows.
ROWS = 10_000
RELEASE_1 = Release(SLUG, "release_1")
UNSAFE = Release(SLUG, "release_2_unsafe")  # RenameField and RenameModel, as makemigrations writes them
DB_COLUMN = Release(SLUG, "release_2_db_column")  # renamed in Django only: db_column and db_table keep the names
# The rename edited into SeparateDatabaseAndState alone: the join table of Product.coupons left to Django (which
# now expects a voucher_id column), the content type left behind.
DB_COLUMN_BARE = Release(SLUG, "release_2_db_column_bare")
# The same models, with the migration as makemigrations wrote it: the table renamed, then renamed back.
DB_COLUMN_GENERATED = Release(SLUG, "release_2_db_column_generated")
EXPAND = Release(SLUG, "release_2_expand")  # adds sku; writes code and sku together; reads code
NO_DUAL_WRITE = Release(SLUG, "release_2_no_dual_write")  # adds sku, but writes code alone
READ_NEW = Release(SLUG, "release_3")  # reads sku, writes both; code made nullable
STOP_OLD = Release(SLUG, "release_4")  # sku alone; Django's state forgets code
DROP_OLD = Release(SLUG, "release_5")  # drops the code column
# Release 4 without release 3 before it: the old column still NOT NULL when the code stops writing it (a contrast).
STOP_OLD_WITHOUT_NULLABLE = Release(SLUG, "release_4_without_nullable")
# The same release as EXPAND with the copy a reader might write first: only the rows whose sku is still NULL.
COPY_MISSING = Release(SLUG, "release_2_copy_missing")
COPY_COMMAND = "copy_code_to_sku"
WORKER_LINGERS = 1.5  # seconds the old release's worker writes on after the first copy, before it is replaced
OPERATIONS = {
    "unsafe": "RenameModel, RenameField",
    "db_column": "Renamed in Django only (db_column, db_table)",
    "db_column_bare": "Renamed in Django only, the join table left to Django",
    "expand": "Expand: AddField sku, written with code",
    "read_new": "Read sku, code made nullable",
    "stop_old": "Stop writing code (state only)",
    "drop_old": "RunSQL: DROP COLUMN code",
    "no_dual_write": "Without the release that writes both: AddField sku",
    "no_dual_read_new": "Without it: read sku",
    "copy_live": "The copy while the site serves and release 1's worker writes; again once it is replaced",
    "copy_live_missing": "The same with a copy of the rows whose sku is NULL",
}
MIGRATION_STEPS = [label for label in OPERATIONS if not label.startswith("copy_live")]
# RenameModel asks the server for the foreign key on the column of the table Django made for Product.coupons before
# it prints that column's rename: on an empty database PostgreSQL's sqlmigrate leaves out the key's drop and
# re-creation, and MariaDB's fails (error 1146). These migrations are printed on release 1's schema.
SQL_SCHEMA = {"release_2_unsafe": RELEASE_1, "release_2_db_column_generated": RELEASE_1}
SQL = [
    ("release_2_unsafe", "shop", "0002"),
    ("release_2_db_column_generated", "shop", "0002"),
    ("release_2_db_column", "shop", "0002"),
    ("release_2_expand", "shop", "0002"),
    ("release_3", "shop", "0003"),
    ("release_5", "shop", "0005"),
]


def products_table(database, story: Story) -> None:
    """Release 1's schema, with :data:`ROWS` products in it."""
    verbs.filled_table(database, [RELEASE_1], TABLE, COLUMNS, ROWS, story)


def roll_out(database, old: Release, new: Release, story: Story) -> RollingReport:
    """Roll ``new`` out over four instances of ``old``, migrations first, watching both tables."""
    return rolling(database, old, new, story, [TABLE, COUPONS])


def copy_code_to_sku(database, release: Release, story: Story) -> CommandRun:
    """Run the copy command of ``release`` (the site's instances all run it)."""
    with story.step(f"Copying code into sku ({release.name}'s {COPY_COMMAND})"):
        run = release.run(COPY_COMMAND, database=database)
    story.say(run.stdout.strip().splitlines()[-1] if run.ok else f"FAILED: {run.error_line()}")
    return run


def differing_rows(database) -> int:
    """Products whose sku is not their code, byte for byte: each one a write the new column missed."""
    differ = "sku <> code"
    if database.engine.vendor == "mysql":  # the column's collation would ignore case and trailing spaces
        differ = "CAST(sku AS BINARY) <> CAST(code AS BINARY)"
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE sku IS NULL OR {differ}")
        return cursor.fetchone()[0]


def expand_and_contract(database, story: Story, *, dual_write: bool = True) -> dict:
    """Releases 2 to 5 rolled out in turn, the copy after release 2; ``dual_write=False`` runs the release 2 that
    writes ``code`` alone, and stops once release 3 reads ``sku``. Returns the reports and the rows that differ
    between the columns when release 3 starts reading ``sku`` and once it alone serves."""
    second = EXPAND if dual_write else NO_DUAL_WRITE
    prefix = "" if dual_write else "no_dual_"
    steps = {f"{prefix}expand" if dual_write else "no_dual_write": roll_out(database, RELEASE_1, second, story)}
    copy = copy_code_to_sku(database, second, story)
    differing = {"before_read_new": differing_rows(database)}
    steps[f"{prefix}read_new"] = roll_out(database, second, READ_NEW, story)
    differing["after_read_new"] = differing_rows(database)
    story.say(f"Products whose sku is not their code: {differing['before_read_new']:,} when release 3 began "
              f"reading sku, {differing['after_read_new']:,} once it served alone")
    if dual_write:
        steps["stop_old"] = roll_out(database, READ_NEW, STOP_OLD, story)
        steps["drop_old"] = roll_out(database, STOP_OLD, DROP_OLD, story)
    return {"steps": steps, "copy": copy, "differing": differing}


def copy_with_old_code_running(database, story: Story, release: Release = EXPAND) -> tuple[LiveReport, list, int]:
    """Release 2 migrated and rolled out on the real site while release 1's background worker still writes; the
    copy of ``release`` run then, and again once the worker is replaced. Returns the report, the two copies, and the
    products whose sku is not their code at the end."""
    live = LiveSite(database, RELEASE_1, story)
    try:
        live.run("Migrating to release 2", lambda: migrate(release, database))
        live.roll_to(release)
        first = live.run("Copying while release 1's worker still writes", lambda: release.run(COPY_COMMAND,
                                                                                               database=database))
        time.sleep(WORKER_LINGERS)
        live.replace_worker(release)
        second = live.run("Copying again, no release 1 left", lambda: release.run(COPY_COMMAND, database=database))
    finally:
        report = live.close()
    differing = differing_rows(database)
    story.say(f"Products whose sku is not their code: {differing:,}")
    return report, [first, second], differing


def copy_figures(report: LiveReport, copies: list, differing: int) -> dict:
    return {**report.figures(), "copy_exit_statuses": " then ".join(str(run.returncode) for run in copies),
            "worker_lingers_s": WORKER_LINGERS,
            "first_copy_said": copies[0].error_line() if not copies[0].ok else copies[0].stdout.strip().splitlines()[-1],
            "differing_rows": differing}


def demonstrate(engine, rows: int, story: Story, new_database) -> dict:
    """The rename while release 1 serves, the rename in Django only (with and without the join table named), and
    expand and contract with and without the release that writes both; each on a fresh table of :data:`ROWS` rows
    (``rows`` is not used)."""
    reports = {}
    story.heading("RenameModel and RenameField while release 1 serves")
    database = new_database(engine)
    products_table(database, story)
    reports["unsafe"] = roll_out(database, RELEASE_1, UNSAFE, story)

    story.heading("Renamed in Django only: db_column and db_table keep the database's names")
    database = new_database(engine)
    products_table(database, story)
    reports["db_column"] = roll_out(database, RELEASE_1, DB_COLUMN, story)

    story.heading("Renamed in Django only, the table Django made for Product.coupons left unnamed")
    database = new_database(engine)
    products_table(database, story)
    reports["db_column_bare"] = roll_out(database, RELEASE_1, DB_COLUMN_BARE, story)

    story.heading("Expand and contract: a new column, written with the old, copied, read, then the old dropped")
    database = new_database(engine)
    products_table(database, story)
    safe = expand_and_contract(database, story)
    reports.update(safe["steps"])

    story.heading("Expand and contract without the release that writes both")
    database = new_database(engine)
    products_table(database, story)
    unsafe = expand_and_contract(database, story, dual_write=False)
    reports.update(unsafe["steps"])
    results = {label: {"figures": report.figures(TABLE), "report": report, "rows": ROWS}
               for label, report in reports.items()}
    for outcome, labels in ((safe, ("expand", "read_new")), (unsafe, ("no_dual_write", "no_dual_read_new"))):
        results[labels[0]]["figures"]["differing_rows"] = outcome["differing"]["before_read_new"]
        results[labels[1]]["figures"]["differing_rows"] = outcome["differing"]["after_read_new"]
    if engine.vendor != "postgresql":  # the live site's deploys: PostgreSQL 18 and 15 (what is shown is the code's)
        return results
    for label, release in (("copy_live", EXPAND), ("copy_live_missing", COPY_MISSING)):
        story.heading(OPERATIONS[label])
        database = new_database(engine)
        products_table(database, story)
        results[label] = {"figures": copy_figures(*copy_with_old_code_running(database, story, release)), "rows": ROWS}
    return results
