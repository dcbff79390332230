"""The guide's story on a real database: a foreign key added as makemigrations writes it, then in four steps.

Used by ``nox -s demo -- add-a-foreign-key`` (to tell it), by ``nox -s evidence`` (to record it for the guide) and
by the tests (to check it).
"""

from __future__ import annotations

from lab import trace, verbs
from lab.deploy import DeployReport, migrate
from lab.releases import Release
from lab.site_verbs import ServingSite, SiteDeployReport, deploy_on_site
from lab.story import Story

SLUG = "add-a-foreign-key"
ORDERS, CUSTOMERS = "shop_order", "shop_customer"
ORDER_COLUMNS = {"total_cents": "i % 50000"}
RELEASE_1 = Release(SLUG, "release_1")
UNSAFE = Release(SLUG, "release_2_unsafe")  # AddField(ForeignKey) as makemigrations wrote it
RELEASE_2 = Release(SLUG, "release_2")  # the column, the index, the constraint NOT VALID, its validation
WITHOUT_INDEX = Release(SLUG, "release_2_without_index")  # AddField(ForeignKey, db_index=False): no index build
# The safe release's steps: each migration of release 2, deployed on its own while release 1 serves.
STEPS = {"column": "0002", "index": "0003", "constraint": "0004", "validate": "0005"}
OPERATIONS = {
    "unsafe": "AddField(ForeignKey), as makemigrations wrote it",
    "without_index": "AddField(ForeignKey, db_index=False)",
    "column": "1. the column alone",
    "index": "2. its index, built concurrently",
    "constraint": "3. the constraint, NOT VALID",
    "validate": "4. VALIDATE CONSTRAINT",
}
SQL = [
    ("release_2_unsafe", "shop", "0002"),
    ("release_2_without_index", "shop", "0002"),
    ("release_2", "shop", "0002"),
    ("release_2", "shop", "0003"),
    ("release_2", "shop", "0004"),
    ("release_2", "shop", "0005"),
]
# Each step's migration, traced statement by statement for the lock modes the guide shows on both tables
# (lab.trace.trace_steps): the sampler can miss a brief lock.
ON_BOTH_TABLES = {"traced_lock_modes": ORDERS, "referenced.traced_lock_modes": CUSTOMERS}
TRACED = {"unsafe": (UNSAFE, ["0002"], ON_BOTH_TABLES), "without_index": (WITHOUT_INDEX, ["0002"], ON_BOTH_TABLES),
          **{label: (RELEASE_2, [migration], ON_BOTH_TABLES) for label, migration in STEPS.items()}}


def tables(database, rows: int, story: Story) -> None:
    """Release 1's schema with ``rows`` orders and as many customers."""
    verbs.filled_table(database, [RELEASE_1], ORDERS, ORDER_COLUMNS, rows, story)
    with database.connect() as connection:  # the customers the orders will point to
        connection.cursor().execute(f"INSERT INTO {CUSTOMERS} (name) SELECT name FROM ("
                                    f"SELECT 'Ada' AS name FROM {ORDERS}) AS names")
    if database.engine.vendor == "postgresql":
        # Vacuumed and analyzed, as tables that have served a while are: else autovacuum, woken by these fills, may
        # hold one of them (SHARE UPDATE EXCLUSIVE) just as a step asks for its SHARE ROW EXCLUSIVE, and the step
        # waits, with the requests queued behind it.
        with database.connect() as connection:  # autocommit: VACUUM runs outside a transaction
            connection.cursor().execute(f"VACUUM (ANALYZE) {ORDERS}, {CUSTOMERS}")


def link_orders(database, rows: int, story: Story) -> None:
    """Give every order one of the ``rows`` customers made with the table, as a backfill would, before the
    constraint is validated: validation then checks every row against the customers."""
    with story.step("Linking every order to a customer"), database.connect() as connection:
        connection.cursor().execute(f"UPDATE {ORDERS} SET customer_id = 1 + (id - 1) % {rows}")


def deploy(database, release: Release, story: Story) -> SiteDeployReport:
    """``release`` deployed whole while release 1's real site serves, locks watched on both tables."""
    return deploy_on_site(database, RELEASE_1, release, story, [ORDERS, CUSTOMERS])


def migrate_step(database, label: str):
    """The command that applies one migration of release 2 (``label`` in :data:`STEPS`): a deploy of that step."""
    return lambda: migrate(RELEASE_2, database, "shop", STEPS[label])


def steps(database, rows: int, story: Story) -> dict[str, SiteDeployReport]:
    """Release 2's migrations, each deployed on its own while one real site of release 1 serves, every order linked
    to one of the ``rows`` customers before the validation."""
    found = {}
    with ServingSite(database, RELEASE_1, story) as site:
        for label in STEPS:
            if label == "validate":
                link_orders(database, rows, story)
            found[label] = site.deploy(RELEASE_2, [ORDERS, CUSTOMERS], migrate_with=migrate_step(database, label))
    return found


def demonstrate(engine, rows: int, story: Story, new_database) -> dict:
    """The generated migration on one table; the four steps on another (on PostgreSQL; elsewhere the steps are
    Django's AddField and AddIndex, so only the generated migration is shown)."""
    reports = {}
    story.heading("The generated migration: AddField(ForeignKey) while release 1 serves")
    database = new_database(engine)
    tables(database, rows, story)
    reports["unsafe"] = deploy(database, UNSAFE, story)
    if engine.vendor == "postgresql":
        story.heading("The same field without its index: db_index=False")
        database = new_database(engine)
        tables(database, rows, story)
        reports["without_index"] = deploy(database, WITHOUT_INDEX, story)
        story.heading("Four steps: column, index, constraint NOT VALID, validation")
        database = new_database(engine)
        tables(database, rows, story)
        reports.update(steps(database, rows, story))
    results = {label: {"figures": figures(report), "report": report} for label, report in reports.items()}
    trace.trace_steps(TRACED, results, engine, new_database, story)
    return results


CUSTOMER_WRITES = ("sign_up_a_customer", "rename_a_customer")  # release 1's writes to the referenced table


def worst_ms(report: DeployReport, names: tuple[str, ...]) -> float:
    """The longest one of release 1's requests named ``names`` (workload functions) took while the migration ran."""
    during = report.old.of(None, report.migration.started, report.migration.ended)
    return max((s.ms for s in during if s.name in names), default=0.0)


def customer_writes_worst_ms(report: DeployReport) -> float:
    """The longest a write of release 1 to the referenced table took while the migration ran."""
    return round(worst_ms(report, CUSTOMER_WRITES))


def figures(report: DeployReport) -> dict:
    """The deploy's figures on the orders table, with those of the referenced table under ``referenced``."""
    referenced = report.figures(CUSTOMERS)
    return report.figures(ORDERS) | {"referenced": {
        "lock_modes": referenced["lock_modes"], "lock_held_ms": referenced["lock_held_ms"],
        "writes_worst_wait_ms": customer_writes_worst_ms(report)}}
