"""The guide's story on a real database: a plain index build, then a concurrent one, each deployed while release
1's real site (gunicorn behind nginx) serves visitors who give up after a timeout.

Used by ``nox -s demo -- add-index-concurrently`` (to tell it), by
``nox -s evidence`` (to record it for the guide) and by the tests (to check it).
"""

from __future__ import annotations

from lab import site_verbs, trace, verbs
from lab.releases import Release
from lab.story import Story

SLUG = "add-index-concurrently"
TABLE = "shop_order"
INDEX = "order_customer_idx"
COLUMNS = {"customer_id": "i % 50000", "total_cents": "i % 10000", "status": "'paid'"}
BEFORE = Release(SLUG, "release_1")
UNSAFE = Release(SLUG, "release_2_unsafe")  # the migration as makemigrations wrote it
SAFE = Release(SLUG, "release_2")  # the same migration, edited to build concurrently
# What the evidence records: the operation each deploy ran, and the migrations whose SQL the guide shows.
OPERATIONS = {"unsafe": "AddIndex", "safe": "AddIndexConcurrently"}
SQL = [("release_2_unsafe", "shop", "0002"), ("release_2", "shop", "0002")]
# Each step's migration, traced statement by statement for the lock modes the guide shows (lab.trace.trace_steps).
TRACED = {label: (release, ["0002"], {"traced_lock_modes": TABLE}) for label, release in (("unsafe", UNSAFE),
                                                                                           ("safe", SAFE))}


def orders_table(database, rows: int, story: Story) -> None:
    """Release 1's schema, with ``rows`` orders in it."""
    verbs.filled_table(database, [BEFORE], TABLE, COLUMNS, rows, story)


def deploy(database, release: Release, story: Story) -> site_verbs.SiteDeployReport:
    """Migrate to ``release`` while release 1's site serves its visitors, watching locks on the table."""
    return site_verbs.deploy_on_site(database, BEFORE, release, story, [TABLE])


def demonstrate(engine, rows: int, story: Story, new_database) -> dict:
    """Both deploys on fresh tables of ``rows`` rows; the figures and timelines of each."""
    results = {}
    for label, release in (("unsafe", UNSAFE), ("safe", SAFE)):
        story.heading(f"{'The generated migration' if label == 'unsafe' else 'The edited migration'}: {release.name}")
        database = new_database(engine)
        orders_table(database, rows, story)
        report = deploy(database, release, story)
        results[label] = {"figures": report.figures(TABLE), "report": report}
    trace.trace_steps(TRACED, results, engine, new_database, story)
    return results
