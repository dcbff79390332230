"""The guide's story on a real database: one additive change rolled out code first, then migrations first; then
a change that is not additive for the old code, migrations first.

Used by ``nox -s demo -- deploy-migrations-first`` (to tell it), by ``nox -s evidence`` (to record it for the guide)
and by the tests (to check it).
"""

from __future__ import annotations

from lab import verbs
from lab.releases import Release
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
}
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
    return {label: {"figures": report.figures(TABLE), "report": report, "rows": ROWS}
            for label, report in reports.items()}
