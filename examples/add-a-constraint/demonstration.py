"""The guide's story on a real database: constraints loosened before the code, tightened after it, and the
tightening done without a long lock.

Used by ``nox -s demo -- add-a-constraint`` (to tell it), by ``nox -s evidence`` (to record it for the guide) and
by the tests (to check it).
"""

from __future__ import annotations

from collections.abc import Callable

from lab import verbs
from lab.deploy import DeployReport, migrate
from lab.engines import Database
from lab.releases import Release
from lab.site_verbs import ServingSite, SiteDeployReport
from lab.story import Story

SLUG = "add-a-constraint"
ORDERS = "shop_order"
RELEASE_1 = Release(SLUG, "release_1")  # a CHECK caps quantities at 10; every order has an address
RELEASE_2 = Release(SLUG, "release_2")  # loosens both; its code writes NULL addresses and bulk quantities
RELEASE_3 = Release(SLUG, "release_3")  # tightens: CHECK total >= 0 NOT VALID, its validation, UNIQUE reference
GENERATED = Release(SLUG, "release_3_generated")  # the same constraints as makemigrations wrote them
# Each step of release 3 and of the generated release: the migration it runs up to.
STEPS = {"check_generated": (GENERATED, "0003"), "unique_generated": (GENERATED, "0004"),
         "check_not_valid": (RELEASE_3, "0003"), "check_validate": (RELEASE_3, "0004"),
         "unique_concurrently": (RELEASE_3, "0005")}
OPERATIONS = {
    "loosen_code_first": "release 2's code, then its migration",
    "loosen_first": "release 2's migration, then its code",
    "tighten_with_code": "release 3 while release 1 serves",
    "fix_totals": "fix_negative_totals while release 2 serves",
    "tighten_after": "release 3 while release 2 serves",
    "check_generated": "CHECK: AddConstraint",
    "check_not_valid": "CHECK: 1. NOT VALID",
    "check_validate": "CHECK: 2. VALIDATE",
    "unique_generated": "UNIQUE: AddConstraint",
    "unique_concurrently": "UNIQUE: index concurrently, then USING INDEX",
}
SQL = [
    ("release_2", "shop", "0002"),
    ("release_3_generated", "shop", "0003"),
    ("release_3_generated", "shop", "0004"),
    ("release_3", "shop", "0003"),
    ("release_3", "shop", "0004"),
    ("release_3", "shop", "0005"),
]


def order_columns(vendor: str) -> dict[str, str]:
    """Release 1's orders as SQL of ``i``: one total in five negative (release 1's bug), every quantity within
    release 1's CHECK, every reference unique."""
    reference = {"postgresql": "md5(i::text)", "mysql": "MD5(i)"}.get(vendor, "'R' || i")
    i = "CAST(i AS SIGNED)" if vendor == "mysql" else "i"  # MariaDB's sequence is unsigned: no negative results
    return {"total_cents": f"{i} % 5 * 1200 + {i} % 100 - 1000", "quantity": "1 + i % 10", "shipping_address": "'1 Main Street'",
            "reference": reference}


def table(database, releases: list[Release], rows: int, story: Story) -> None:
    """``rows`` orders made by release 1, the schema migrated to the last of ``releases``."""
    verbs.filled_table(database, releases, ORDERS, order_columns(database.engine.vendor), rows, story)


def code_first(database, story: Story) -> DeployReport:
    """Release 2's code serving on release 1's schema, then release 2's migration run: the wrong order."""
    return verbs.serve_while(database, RELEASE_2, "Migrating release_2 after its code took over",
                             lambda: migrate(RELEASE_2, database), story, [ORDERS])


def fix_totals(database, story: Story) -> DeployReport:
    """Release 2's command that sets release 1's negative totals to zero, run while release 2 serves."""
    return verbs.serve_while(database, RELEASE_2, "Fixing the negative totals", lambda: RELEASE_2.run(
        "fix_negative_totals", database=database), story, [ORDERS])


def deploy(database, old: Release, new: Release, story: Story) -> DeployReport:
    """``new`` deployed whole while ``old`` serves, locks on the orders watched."""
    return verbs.deploy(database, old, new, story, [ORDERS])


def migrate_step(database, label: str):
    """The command that applies one migration (``label`` in :data:`STEPS`): a deploy of that step."""
    release, migration = STEPS[label]
    return lambda: migrate(release, database, "shop", migration)


def orders(new_database: Callable[[], Database], rows: int, story: Story) -> dict[str, DeployReport]:
    """The loosening and the tightening, each in the wrong order and in the right one, on two new databases
    (``new_database()``) of ``rows`` orders."""
    story.heading("The wrong order: release 2's code first, then release 3 while release 1 still serves")
    wrong = new_database()
    table(wrong, [RELEASE_1], rows, story)
    # The first step leaves release 2's schema, which release 1 serves as well.
    reports = {"loosen_code_first": code_first(wrong, story),
               "tighten_with_code": deploy(wrong, RELEASE_1, RELEASE_3, story)}
    story.heading("The right order: release 2's migration first, release 3 once release 2 serves")
    right = new_database()
    table(right, [RELEASE_1], rows, story)
    reports["loosen_first"] = deploy(right, RELEASE_1, RELEASE_2, story)
    # Release 1 wrote negative totals until release 2 took over: the CHECK needs the rows fixed first.
    reports["fix_totals"] = fix_totals(right, story)
    return reports | {"tighten_after": deploy(right, RELEASE_2, RELEASE_3, story)}


def steps(database, labels: list[str], rows: int, story: Story) -> dict[str, SiteDeployReport]:
    """``labels`` (in :data:`STEPS`) deployed one after the other on ``rows`` orders at release 2's schema, their
    negative totals fixed, while one real site of release 2 serves through them all."""
    table(database, [RELEASE_1, RELEASE_2], rows, story)
    with story.step("Fixing the negative totals"):
        fixed = RELEASE_2.run("fix_negative_totals", database=database)
    if not fixed.ok:
        raise RuntimeError(f"fix_negative_totals failed:\n{fixed.stderr}")
    if database.engine.vendor == "postgresql":
        # The fix leaves a fifth of the rows dead: vacuumed now, autovacuum does not come during a step and hold
        # SHARE UPDATE EXCLUSIVE, which the steps' ACCESS EXCLUSIVE would queue behind.
        with story.step("Vacuuming the orders"), database.connect() as connection:  # autocommit
            connection.cursor().execute(f"VACUUM (ANALYZE) {ORDERS}")
    with ServingSite(database, RELEASE_2, story) as site:
        return {label: site.deploy(STEPS[label][0], [ORDERS], migrate_with=migrate_step(database, label))
                for label in labels}


def demonstrate(engine, rows: int, story: Story, new_database) -> dict:
    """The four deploys of the order on every engine; the constraints as generated and as the recipe adds them, step
    by step, on PostgreSQL (on MariaDB, release 3's migrations are the generated ones, so only those)."""
    reports = orders(lambda: new_database(engine), rows, story)
    if engine.vendor == "postgresql":
        story.heading("CHECK and UNIQUE as makemigrations wrote them, while release 2 serves")
        reports |= steps(new_database(engine), ["check_generated", "unique_generated"], rows, story)
        story.heading("CHECK NOT VALID, VALIDATE, and UNIQUE from an index built concurrently")
        reports |= steps(new_database(engine), ["check_not_valid", "check_validate", "unique_concurrently"], rows,
                         story)
    elif engine.vendor == "mysql":
        story.heading("CHECK and UNIQUE as makemigrations wrote them, while release 2 serves")
        reports |= steps(new_database(engine), ["check_generated", "unique_generated"], rows, story)
    return {label: {"figures": figures(report), "report": report} for label, report in reports.items()}


def figures(report: DeployReport) -> dict:
    """The deploy's figures on the orders table, and whether its migration (or command) succeeded."""
    return report.figures(ORDERS) | {"migration_outcome": "succeeded" if report.migration.ok else "failed"}
