"""The guide's story on a real database: a column's type changed as makemigrations writes it, and a counter made
bigint without a long lock.

Used by ``nox -s demo -- change-a-column-type`` (to tell it), by ``nox -s evidence`` (to record it for the guide) and
by the tests (to check it).
"""

from __future__ import annotations

from collections.abc import Callable

from lab import verbs
from lab.deploy import DeployReport, migrate
from lab.engines import Database
from lab.releases import Release
from lab.site_verbs import SiteDeployReport, deploy_on_site
from lab.story import Story

SLUG = "change-a-column-type"
PRODUCTS = "shop_product"
RELEASE_1 = Release(SLUG, "release_1")  # name varchar(50), views integer
LONGER = Release(SLUG, "release_2_longer")  # name varchar(60), as makemigrations wrote it
SHORTER = Release(SLUG, "release_2_shorter")  # name varchar(30), as makemigrations wrote it
GENERATED = Release(SLUG, "release_2_generated")  # views bigint, as makemigrations wrote it
RELEASE_2 = Release(SLUG, "release_2")  # views_bigint beside views, a trigger; the command that copies
RELEASE_3 = Release(SLUG, "release_3")  # the index, the CHECK, its validation, the swap
# The generated changes, each deployed while release 1 serves, on a table of its own.
GENERATED_CHANGES = {"longer": LONGER, "shorter": SHORTER, "bigint_generated": GENERATED}
# Each step of release 3: the migration it runs up to.
STEPS = {"index": "0003", "not_null_not_valid": "0004", "validate": "0005", "swap": "0006"}
OPERATIONS = {
    "longer": "varchar(50) → varchar(60)",
    "shorter": "varchar(50) → varchar(30)",
    "bigint_generated": "integer → bigint, AlterField",
    "expand": "1. bigint column and trigger",
    "copy": "2. copy_views_to_bigint",
    "index": "3. index, concurrently",
    "not_null_not_valid": "4. CHECK, NOT VALID",
    "validate": "5. VALIDATE",
    "swap": "6. the swap",
}
MIGRATION_STEPS = [label for label in OPERATIONS if label != "copy"]
SQL = [
    ("release_2_longer", "shop", "0002"),
    ("release_2_shorter", "shop", "0002"),
    ("release_2_generated", "shop", "0002"),
    ("release_2", "shop", "0002"),
    ("release_3", "shop", "0003"),
    ("release_3", "shop", "0004"),
    ("release_3", "shop", "0005"),
    ("release_3", "shop", "0006"),
]


def product_columns(vendor: str) -> dict[str, str]:
    """Release 1's products as SQL of ``i``: short names, view counts spread out, for the index to order."""
    name = "CONCAT('Product ', i)" if vendor == "mysql" else "'Product ' || i"
    return {"name": name, "views": "i * 37 % 100000"}


def table(database, releases: list[Release], rows: int, story: Story) -> None:
    """``rows`` products made by release 1, the schema migrated to the last of ``releases``."""
    verbs.filled_table(database, releases, PRODUCTS, product_columns(database.engine.vendor), rows, story)


def deploy(database, old: Release, new: Release, story: Story) -> DeployReport:
    """``new`` deployed whole while ``old`` serves, locks on the products watched."""
    return verbs.deploy(database, old, new, story, [PRODUCTS])


def step(database, label: str, story: Story) -> DeployReport:
    """Release 3's migrations up to step ``label`` (in :data:`STEPS`) while release 2 serves; then release 2's code
    goes on serving, or release 3's after the swap (its models know views as bigint)."""
    code = RELEASE_3 if label == "swap" else RELEASE_2
    return verbs.deploy(database, RELEASE_2, code, story, [PRODUCTS],
                        migrate_with=lambda: migrate(RELEASE_3, database, "shop", STEPS[label]))


def copy(database, story: Story, *args: str) -> DeployReport:
    """Release 2's command that copies views into views_bigint (with ``args``), run while release 2 serves."""
    return verbs.serve_while(database, RELEASE_2, "Copying views into views_bigint", lambda: RELEASE_2.run(
        "copy_views_to_bigint", *args, database=database), story, [PRODUCTS])


def generated(new_database: Callable[[], Database], rows: int, story: Story) -> dict[str, SiteDeployReport]:
    """Each generated change deployed while release 1's real site serves, on a new database (``new_database()``) of
    ``rows`` products."""
    reports = {}
    for label, release in GENERATED_CHANGES.items():
        database = new_database()
        table(database, [RELEASE_1], rows, story)
        reports[label] = deploy_on_site(database, RELEASE_1, release, story, [PRODUCTS])
    return reports


def recipe(database, rows: int, story: Story, until: str = "swap",
           sizes: dict | None = None) -> dict[str, DeployReport]:
    """The recipe on ``rows`` products: release 2 while release 1 serves, its copy, then release 3's steps up to
    ``until`` (in :data:`STEPS`), each while release 2 serves; the last serves release 3's code after it.
    ``sizes``, if given, gets the table's size after each step (:func:`table_mb`)."""
    table(database, [RELEASE_1], rows, story)
    steps = {"expand": lambda: deploy(database, RELEASE_1, RELEASE_2, story), "copy": lambda: copy(database, story),
             **{label: (lambda label=label: step(database, label, story)) for label in STEPS}}
    reports = {}
    for label, run in steps.items():
        reports[label] = run()
        if sizes is not None:
            sizes[label] = table_mb(database)
        if label == "copy" and not reports[label].migration.ok:
            raise RuntimeError(f"copy_views_to_bigint failed:\n{reports[label].migration.stderr}")
        if label == until:
            break
    return reports


def table_mb(database) -> float:
    """The products table's size with its indexes, in MB (PostgreSQL): the copy leaves a dead version of every row."""
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute(f"SELECT pg_total_relation_size('{PRODUCTS}')")
        return round(cursor.fetchone()[0] / 2**20, 1)


def demonstrate(engine, rows: int, story: Story, new_database) -> dict:
    """The generated changes on every engine; on PostgreSQL, the recipe too."""
    story.heading("Three changes as makemigrations wrote them, each while release 1's site serves")
    reports = generated(lambda: new_database(engine), rows, story)
    sizes: dict[str, float] = {}
    if engine.vendor == "postgresql":
        story.heading("integer → bigint in six steps, the site serving")
        reports |= recipe(new_database(engine), rows, story, sizes=sizes)
    return {label: {"figures": figures(report) | ({"table_mb": sizes[label]} if label in sizes else {}),
                    "report": report} for label, report in reports.items()}


def figures(report: DeployReport) -> dict:
    """The deploy's figures on the products table, and whether its migration (or command) succeeded."""
    return report.figures(PRODUCTS) | {"migration_outcome": "succeeded" if report.migration.ok else "failed"}
