"""The guide's story on a real database: a field and a model removed in one release, then in two.

Used by ``nox -s demo -- remove-a-field`` (to tell it), by ``nox -s evidence``
(to record it for the guide) and by the tests (to check it).
"""

from __future__ import annotations

from lab import trace, verbs
from lab.deploy import DeployReport, run_sql
from lab.releases import Release
from lab.rolling import RollingReport, rolling
from lab.story import Story

SLUG = "remove-a-field"
TABLE = "shop_product"
COLUMN = "legacy_code"
GONE_TABLE = "shop_coupon"
COLUMNS = {"name": "'Teapot'", "price_cents": "i % 5000", "legacy_code": "'T-1'"}
RELEASE_1 = Release(SLUG, "release_1")
UNSAFE = Release(SLUG, "release_2_unsafe")  # the migration as makemigrations wrote it
RELEASE_2 = Release(SLUG, "release_2")  # removes the field and the model from Django's state only
KEEPS_NOT_NULL = Release(SLUG, "release_2_keeps_not_null")  # the same, but leaves the column NOT NULL
RELEASE_3 = Release(SLUG, "release_3")  # drops the column and the table
# What the evidence records: the operation each deploy ran, and the migrations whose SQL the guide shows.
OPERATIONS = {
    "unsafe": "RemoveField, DeleteModel",
    "release_2": "SeparateDatabaseAndState, column made nullable",
    "release_3": "RunSQL: DROP COLUMN, DROP TABLE",
    "not_null": "SeparateDatabaseAndState, column left NOT NULL",
    "mariadb_default": "ALTER COLUMN SET DEFAULT '', column left NOT NULL (MariaDB only)",
}
# Steps that are migrations, for the lock reference. The MariaDB-only statement is left out: the reference lists
# every engine for each step.
MIGRATION_STEPS = [label for label in OPERATIONS if label != "mariadb_default"]
# On MariaDB, the alternative to making the column nullable (which rebuilds the table): keep it NOT NULL and give
# it a default in the database, so the inserts of a release that no longer sends it get the default.
SET_DEFAULT = f"ALTER TABLE {TABLE} ALTER COLUMN {COLUMN} SET DEFAULT ''"
SQL = [
    ("release_2_unsafe", "shop", "0002"),
    ("release_2", "shop", "0002"),
    ("release_3", "shop", "0003"),
]
# The two releases' migrations, traced statement by statement for the lock modes the guide shows
# (lab.trace.trace_steps): the sampler can miss a brief lock.
TRACED = {"release_2": (RELEASE_2, ["0002"], {"traced_lock_modes": TABLE}),
          "release_3": (RELEASE_3, ["0003"], {"traced_lock_modes": TABLE})}


def products_table(database, rows: int, story: Story) -> None:
    """Release 1's schema, with ``rows`` products in it."""
    verbs.filled_table(database, [RELEASE_1], TABLE, COLUMNS, rows, story)


def deploy(database, old: Release, new: Release, story: Story) -> RollingReport:
    """Roll ``new`` out over four instances of ``old``, migrations first, watching locks on both tables."""
    return rolling(database, old, new, story, [TABLE, GONE_TABLE])


def default_while_release_1_serves(database, story: Story) -> DeployReport:
    """:data:`SET_DEFAULT` run while release 1 serves, watching locks on both tables."""
    return verbs.serve_while(database, RELEASE_1, f"Giving {COLUMN} a database default",
                             lambda: run_sql(database, SET_DEFAULT), story, [TABLE, GONE_TABLE])


def demonstrate(engine, rows: int, story: Story, new_database) -> dict:
    """The wrong way, the two-release way, the half-way trap and, on MariaDB, the database default, each on a
    fresh table."""
    reports = {}
    story.heading("The generated migration: drop the column while release 1 still serves")
    database = new_database(engine)
    products_table(database, rows, story)
    reports["unsafe"] = deploy(database, RELEASE_1, UNSAFE, story)

    story.heading("Two releases: forget the field in Django's state, then drop the column")
    database = new_database(engine)
    products_table(database, rows, story)
    reports["release_2"] = deploy(database, RELEASE_1, RELEASE_2, story)
    reports["release_3"] = deploy(database, RELEASE_2, RELEASE_3, story)

    story.heading("Half-way: state only, but the column stays NOT NULL")
    database = new_database(engine)
    products_table(database, rows, story)
    reports["not_null"] = deploy(database, RELEASE_1, KEEPS_NOT_NULL, story)

    if engine.vendor == "mysql":
        story.heading("MariaDB: a database default instead of a nullable column")
        database = new_database(engine)
        products_table(database, rows, story)
        reports["mariadb_default"] = default_while_release_1_serves(database, story)
    results = {label: {"figures": report.figures(TABLE), "report": report} for label, report in reports.items()}
    trace.trace_steps(TRACED, results, engine, new_database, story)
    return results
