"""The guide's story on a real database: one additive change rolled out code first, then migrations first; then
a change that is not additive for the old code, migrations first; then two migrate commands started together, as
when every instance migrates as it starts, plain and through the wrapper that takes a run lock.

Used by ``nox -s demo -- deploy-migrations-first`` (to tell it), by ``nox -s evidence`` (to record it for the guide)
and by the tests (to check it).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from lab import verbs
from lab.deploy import OpenTransaction
from lab.releases import CommandRun, Release
from lab.rolling import AFTER, FIRST, RollingReport, rolling
from lab.story import Story

SLUG = "deploy-migrations-first"
TABLE = "shop_product"
COLUMNS = {"name": "'Teapot'", "price_cents": "i % 5000"}
# The order of a deploy is the point, not the table's size: every step runs on this many rows.
ROWS = 10_000
RELEASE_1 = Release(SLUG, "release_1")
RELEASE_2 = Release(SLUG, "release_2")  # adds a nullable colour, and uses it
REQUIRED = Release(SLUG, "release_2_required")  # the same code, the column NOT NULL without a database default
OPERATIONS = {
    "code_first": "AddField, nullable: code first, migration after",
    "migrations_first": "AddField, nullable: migration first",
    "required": "AddField, NOT NULL: migration first",
    "race_plain": "two migrate commands started together",
    "race_locked": "two migrate_with_retries started together",
}
# A transaction open on the table while both start: both read the plan before either applies it, as when a
# migration waits for its lock on a busy table.
RACE_HOLD_SECONDS = 3.0
RACES = {"race_plain": ("migrate", "--no-input"), "race_locked": ("migrate_with_retries",)}
SQL = [
    ("release_2", "shop", "0002"),
    ("release_2_required", "shop", "0002"),
]


def products_table(database, story: Story) -> None:
    """Release 1's schema, with :data:`ROWS` products in it."""
    verbs.filled_table(database, [RELEASE_1], TABLE, COLUMNS, ROWS, story)


def roll_out(database, new: Release, story: Story, migrate_when: str = FIRST) -> RollingReport:
    """Roll ``new`` out over four instances of release 1, migrating as ``migrate_when`` says."""
    return rolling(database, RELEASE_1, new, story, [TABLE], migrate_when=migrate_when)


def two_at_once(database, command: tuple[str, ...], story: Story) -> list[CommandRun]:
    """Two runs of release 2's ``command`` started together, while a transaction that read the table stays open
    :data:`RACE_HOLD_SECONDS`."""
    story.say(f"Two runs of {' '.join(command)} start together; a transaction on {TABLE} is open "
              f"{RACE_HOLD_SECONDS:g} s")
    with OpenTransaction(database, TABLE, RACE_HOLD_SECONDS):
        with ThreadPoolExecutor(2) as pool:
            runs = list(pool.map(lambda _: RELEASE_2.run(*command, database=database, role="migrate"), range(2)))
    for run in runs:
        story.say(f"exit status {run.returncode}" + (f": {run.error_line()}" if not run.ok else ""))
    return runs


def times_recorded(database, migration: str = "0002_product_colour") -> int:
    """How many rows of django_migrations record ``migration`` of the app as applied."""
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT COUNT(*) FROM django_migrations WHERE app = 'shop' AND name = %s", (migration,))
        return cursor.fetchone()[0]


def race_figures(runs: list[CommandRun], database) -> dict:
    failed = [run for run in runs if not run.ok]
    return {"transaction_open_s": RACE_HOLD_SECONDS,
            "exit_statuses": " and ".join(str(status) for status in sorted(run.returncode for run in runs)),
            "migration_error": failed[0].error_line() if failed else "none",
            "recorded": times_recorded(database)}


def demonstrate(engine, rows: int, story: Story, new_database) -> dict:
    """Both orders of the same additive change, then a change old code cannot live with; each on a fresh table
    of :data:`ROWS` rows (``rows`` is not used: the order matters here, not the size)."""
    reports = {}
    story.heading("New code first: release 2's instances meet a schema without its column")
    database = new_database(engine)
    products_table(database, story)
    reports["code_first"] = roll_out(database, RELEASE_2, story, migrate_when=AFTER)

    story.heading("Migrations first: release 1 serves on, over a column it does not know")
    database = new_database(engine)
    products_table(database, story)
    reports["migrations_first"] = roll_out(database, RELEASE_2, story)

    story.heading("Migrations first, but the new column is NOT NULL: release 1's inserts fail")
    database = new_database(engine)
    products_table(database, story)
    reports["required"] = roll_out(database, REQUIRED, story)
    results = {label: {"figures": report.figures(TABLE), "report": report, "rows": ROWS}
               for label, report in reports.items()}
    if engine.vendor == "sqlite":  # one writer at a time on one file: the race is the servers'
        return results
    for label, command in RACES.items():
        story.heading(OPERATIONS[label])
        database = new_database(engine)
        products_table(database, story)
        results[label] = {"figures": race_figures(two_at_once(database, command, story), database), "rows": ROWS}
    return results
