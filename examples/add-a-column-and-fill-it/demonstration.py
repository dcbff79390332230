"""The guide's story on a real database: add a column, fill it in batches, make it NOT NULL.

Each step runs while the serving release's real site (gunicorn behind nginx, :mod:`lab.site_verbs`) serves visitors
who give up after a timeout.

Used by ``nox -s demo -- add-a-column-and-fill-it`` (to tell it), by ``nox -s
evidence`` (to record it for the guide) and by the tests (to check it).
"""

from __future__ import annotations

import re

from lab import trace, verbs
from lab.deploy import DeployReport, OpenTransaction, run_sql
from lab.releases import Release
from lab.site_verbs import ServingSite, SiteDeployReport, deploy_on_site
from lab.story import Story

SLUG = "add-a-column-and-fill-it"
TABLE = "shop_customer"
COLUMN = "loyalty_points"
COLUMNS = {"name": "'Ada'", "spent_cents": "i % 100000"}
RELEASE_1 = Release(SLUG, "release_1")
NULLABLE = Release(SLUG, "release_2")  # adds the column nullable; ships the fill command
DB_DEFAULT = Release(SLUG, "release_2_db_default")  # adds it NOT NULL with a constant database default
VOLATILE = Release(SLUG, "release_2_volatile")  # adds a column whose default differs per row
DEFAULT_ONLY = Release(SLUG, "release_2_default_only")  # NOT NULL with Django's default= only
TIGHTEN = Release(SLUG, "release_3")  # NOT NULL in short-locking steps
TIGHTEN_PLAIN = Release(SLUG, "release_3_unsafe")  # NOT NULL as makemigrations wrote it
TIGHTEN_WITH_DEFAULT = Release(SLUG, "release_3_with_default")  # NOT NULL with default=0, as makemigrations wrote it
BATCH_SIZE = 5_000  # the fill command's default: the demonstration runs it as an operator would
QUEUE_SECONDS = 2  # how long a transaction keeps the table while the migration waits for its lock
# What the evidence records: the operation each step ran, and the migrations whose SQL the guide shows.
OPERATIONS = {
    "add_nullable": "AddField, null=True",
    "add_db_default": "AddField, db_default=0",
    "add_volatile": "AddField, db_default=Random()",
    "add_nullable_small": "AddField, null=True",
    "add_db_default_small": "AddField, db_default=0",
    "add_volatile_small": "AddField, db_default=Random()",
    "add_nullable_queued": f"AddField, null=True, behind a transaction open {QUEUE_SECONDS} s",
    "default_only": "AddField, default=0 (Django only)",
    "fill_command": f"fill_loyalty_points (default batches of {BATCH_SIZE:,})",
    "single_update": "one UPDATE of every row",
    "tighten": "NOT NULL via CHECK NOT VALID, VALIDATE, SET NOT NULL",
    "tighten_plain": "AlterField, null=False",
    "tighten_with_default": "AlterField, null=False, default=0",
}
MIGRATION_STEPS = [label for label in OPERATIONS if label not in ("fill_command", "single_update")]
SQL = [
    ("release_2", "shop", "0002"),
    ("release_2_db_default", "shop", "0002"),
    ("release_2_default_only", "shop", "0002"),
    ("release_3", "shop", "0003"),
    ("release_3_unsafe", "shop", "0003"),
    ("release_3_with_default", "shop", "0003"),
]
# The NOT NULL migrations, traced statement by statement for the lock modes the guide shows (lab.trace.trace_steps):
# the sampler can miss a brief lock.
TRACED = {label: (release, ["0003"], {"traced_lock_modes": TABLE}) for label, release in (
    ("tighten", TIGHTEN), ("tighten_plain", TIGHTEN_PLAIN), ("tighten_with_default", TIGHTEN_WITH_DEFAULT))}


def customers_table(database, rows: int, story: Story, release: Release = RELEASE_1) -> None:
    """``release``'s schema with ``rows`` customers (filled before the release's own migration, if any)."""
    verbs.filled_table(database, [RELEASE_1] if release == RELEASE_1 else [RELEASE_1, release], TABLE, COLUMNS, rows,
                       story)


def deploy(database, old: Release, new: Release, story: Story) -> SiteDeployReport:
    """Deploy ``new`` while ``old``'s real site serves, watching locks on the table."""
    return deploy_on_site(database, old, new, story, [TABLE])


def fill_with_command(site: ServingSite, *extra: str) -> SiteDeployReport:
    """Release 2's fill command, run while release 2's real site (``site``) serves."""
    return site.run(f"Filling {COLUMN} with the management command",
                    lambda: NULLABLE.run("fill_loyalty_points", *extra, database=site.database), [TABLE])


def single_update(vendor: str) -> str:
    """The whole fill as one statement (integer division: ``DIV`` on MariaDB, ``/`` elsewhere)."""
    points = "spent_cents DIV 100" if vendor == "mysql" else "spent_cents / 100"
    return f"UPDATE {TABLE} SET {COLUMN} = {points} WHERE {COLUMN} IS NULL"


def fill_with_one_update(site: ServingSite) -> SiteDeployReport:
    """The same fill as one UPDATE statement, run while release 2's real site (``site``) serves."""
    database = site.database
    return site.run(f"Filling {COLUMN} with one UPDATE",
                    lambda: run_sql(database, single_update(database.engine.vendor)), [TABLE])


def filled_release_2_table(database, rows: int, story: Story) -> None:
    """Release 2's table with ``rows`` customers, every one given its points by one UPDATE: the table
    ``tighten_plain`` is deployed on, so that the ways of making the column NOT NULL compare."""
    customers_table(database, rows, story, release=NULLABLE)
    with story.step(f"Filling {COLUMN} with one UPDATE"):
        filled = run_sql(database, single_update(database.engine.vendor))
    if not filled.ok:
        raise RuntimeError(f"the fill failed: {filled.stderr}")


def queued_behind_a_transaction(database, story: Story) -> SiteDeployReport:
    """Release 2's nullable add, deployed while a transaction that read the table stays open: it opens once
    release 1's site serves, just before the migration starts."""
    story.say(f"A transaction reads {TABLE} and stays open {QUEUE_SECONDS} s, as a slow report would")
    held = OpenTransaction(database, TABLE, QUEUE_SECONDS)
    try:
        return deploy_on_site(database, RELEASE_1, NULLABLE, story, [TABLE], before_migration=held.start)
    finally:
        held.join()


def demonstrate(engine, rows: int, story: Story, new_database) -> dict:
    """Every step of the guide on fresh tables; the figures and timelines of each."""
    reports: dict[str, DeployReport] = {}
    small = max(rows // 100, 1_000)
    for label, release in (("add_nullable", NULLABLE), ("add_db_default", DB_DEFAULT), ("add_volatile", VOLATILE)):
        for suffix, size in (("_small", small), ("", rows)):
            story.heading(f"{OPERATIONS[label]}, {size:,} rows")
            database = new_database(engine)
            customers_table(database, size, story)
            reports[label + suffix] = deploy(database, RELEASE_1, release, story)
            if label == "add_nullable" and not suffix:
                story.heading("Filling the new column in batches, then making it NOT NULL")
                with ServingSite(database, NULLABLE, story) as site:
                    reports["fill_command"] = fill_with_command(site)
                    reports["tighten"] = site.deploy(TIGHTEN, [TABLE])

    story.heading(f"The brief lock waits: a transaction has read the table and stays open {QUEUE_SECONDS} s")
    database = new_database(engine)
    customers_table(database, small, story)
    reports["add_nullable_queued"] = queued_behind_a_transaction(database, story)

    story.heading("The same fill as one UPDATE, then NOT NULL as makemigrations wrote it")
    database = new_database(engine)
    customers_table(database, rows, story, release=NULLABLE)
    with ServingSite(database, NULLABLE, story) as site:
        reports["single_update"] = fill_with_one_update(site)
        reports["tighten_plain"] = site.deploy(TIGHTEN_PLAIN, [TABLE])

    story.heading("NOT NULL with a default, as makemigrations wrote it, on a filled table")
    database = new_database(engine)
    filled_release_2_table(database, rows, story)
    reports["tighten_with_default"] = deploy(database, NULLABLE, TIGHTEN_WITH_DEFAULT, story)

    story.heading("A NOT NULL column with Django's default= only")
    database = new_database(engine)
    customers_table(database, small, story)
    reports["default_only"] = deploy(database, RELEASE_1, DEFAULT_ONLY, story)
    sizes = {"add_nullable_small": small, "add_db_default_small": small, "add_volatile_small": small,
             "default_only": small, "add_nullable_queued": small}
    results = {label: {"figures": report.figures(TABLE), "report": report, "rows": sizes.get(label, rows)}
               for label, report in reports.items()}
    results["fill_command"]["figures"]["rows_per_second"] = command_rate(reports["fill_command"].migration.stdout)
    results["single_update"]["figures"]["rows_per_second"] = round(rows / reports["single_update"].migration.seconds)
    results["add_nullable_queued"]["figures"]["transaction_open_s"] = QUEUE_SECONDS
    trace.trace_steps(TRACED, results, engine, new_database, story)
    return results


def command_rate(output: str) -> int:
    """The fill command's own speed, from its last line: its time without the process starting, as the single
    UPDATE's is measured without one."""
    match = re.search(r"\(([\d,]+) rows/s\)\.?\s*$", output.strip())
    if not match:
        raise RuntimeError(f"the fill command printed no final speed:\n{output[-500:]}")
    return int(match.group(1).replace(",", ""))
