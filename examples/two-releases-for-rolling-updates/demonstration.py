"""The guide's story on a real database: a weight made required in the release whose code starts setting it, then
in two releases: the code first, the NOT NULL after. Then the two releases on the real site with release 1's
background worker still writing after the web has moved on: the fill says so, and the NOT NULL waits for it.

Used by ``nox -s demo -- two-releases-for-rolling-updates`` (to tell it), by ``nox -s evidence`` (to record it for
the guide) and by the tests (to check it).
"""

from __future__ import annotations

import time

from lab import verbs
from lab.deploy import migrate
from lab.releases import CommandRun, Release
from lab.site_deploy import LiveReport, LiveSite
from lab.rolling import RollingReport, rolling
from lab.story import Story

SLUG = "two-releases-for-rolling-updates"
TABLE = "shop_product"
# Release 1 never sets a weight: every row it made has none.
COLUMNS = {"name": "'Teapot'"}
# What matters is which code runs beside which schema, not the table's size: every step runs on this many rows.
ROWS = 10_000
GRAMS = 500  # the weight the example gives products that have none
RELEASE_1 = Release(SLUG, "release_1")
ONE_RELEASE = Release(SLUG, "release_2_one_release")  # sets weights and makes the column NOT NULL, together
RELEASE_2 = Release(SLUG, "release_2")  # sets weights; the column stays nullable
RELEASE_3 = Release(SLUG, "release_3")  # makes the column NOT NULL
FILL_COMMAND = "fill_missing_weights"
OPERATIONS = {
    "one_release": "Code and NOT NULL in one release",
    "code": "Release 2: the code sets a weight",
    "schema": "Release 3: NOT NULL",
    "worker_replaced": "On the live site: the fill, the worker replaced, the fill again, then release 3",
    "worker_left": "The same, release 3 migrated while release 1's worker still writes",
}
MIGRATION_STEPS = ["one_release", "code", "schema"]  # the live-site runs are deploys of several steps, not one
WORKER_LINGERS = 1.0  # seconds the worker of the release before writes on at the end, before it is replaced
SQL = [
    ("release_2_one_release", "shop", "0002"),
    ("release_3", "shop", "0002"),
]


def products_table(database, story: Story) -> None:
    """Release 1's schema, with :data:`ROWS` products in it, none with a weight."""
    verbs.filled_table(database, [RELEASE_1], TABLE, COLUMNS, ROWS, story)


def roll_out(database, old: Release, new: Release, story: Story) -> RollingReport:
    """Roll ``new`` out over four instances of ``old``, migrations first."""
    return rolling(database, old, new, story, [TABLE])


def fill_missing_weights(database, story: Story) -> CommandRun:
    """Release 2's command, run once release 2 serves alone."""
    with story.step(f"Filling missing weights ({FILL_COMMAND} --grams {GRAMS})"):
        run = RELEASE_2.run(FILL_COMMAND, "--grams", str(GRAMS), database=database)
    story.say(run.stdout.strip().splitlines()[-1] if run.ok else f"FAILED: {run.error_line()}")
    return run


def two_releases(database, story: Story) -> dict:
    """Release 2 rolled out, the fill, then release 3 rolled out."""
    code = roll_out(database, RELEASE_1, RELEASE_2, story)
    fill = fill_missing_weights(database, story)
    return {"code": code, "fill": fill, "schema": roll_out(database, RELEASE_2, RELEASE_3, story)}


def fill(database) -> CommandRun:
    return RELEASE_2.run(FILL_COMMAND, "--grams", str(GRAMS), database=database)


def missing_weights(database) -> int:
    """Products with no weight."""
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE weight_grams IS NULL")
        return cursor.fetchone()[0]


def with_an_old_worker(database, story: Story, *, replace_worker_first: bool) -> tuple[LiveReport, dict]:
    """Release 2 rolled out on the real site while release 1's background worker writes on; the fill; then, if
    ``replace_worker_first``, the worker replaced and the fill run again; then release 3 migrated and rolled out,
    and the last worker replaced. Returns the report and the commands run, by name."""
    live = LiveSite(database, RELEASE_1, story)
    runs = {}
    try:
        live.roll_to(RELEASE_2)
        runs["fill"] = live.run("Filling while release 1's worker still writes", lambda: fill(database))
        if replace_worker_first:
            live.replace_worker(RELEASE_2)
            runs["fill_again"] = live.run("Filling again, no release 1 left", lambda: fill(database))
        runs["schema"] = live.run("Migrating to release 3 (NOT NULL)", lambda: migrate(RELEASE_3, database))
        if runs["schema"].ok:
            live.roll_to(RELEASE_3)
        time.sleep(WORKER_LINGERS)
        live.replace_worker(RELEASE_3 if runs["schema"].ok else RELEASE_2)
    finally:
        report = live.close()
    return report, runs


def worker_figures(report: LiveReport, runs: dict, database) -> dict:
    fills = [runs[name] for name in ("fill", "fill_again") if name in runs]
    return {**report.figures(), "fill_exit_statuses": " then ".join(str(run.returncode) for run in fills),
            "migration_outcome": "succeeded" if runs["schema"].ok else "failed",
            "migration_error": "none" if runs["schema"].ok else runs["schema"].error_line(),
            "missing_weights": missing_weights(database)}


def demonstrate(engine, rows: int, story: Story, new_database) -> dict:
    """One release, then two; each on a fresh table of :data:`ROWS` rows (``rows`` is not used)."""
    story.heading("One release: the code sets a weight and the column becomes NOT NULL")
    database = new_database(engine)
    products_table(database, story)
    reports = {"one_release": roll_out(database, RELEASE_1, ONE_RELEASE, story)}

    story.heading("Two releases: the code first, NOT NULL once no running code leaves the weight out")
    database = new_database(engine)
    products_table(database, story)
    steps = two_releases(database, story)
    reports.update(code=steps["code"], schema=steps["schema"])
    results = {label: {"figures": report.figures(TABLE) | outcome(report), "report": report, "rows": ROWS}
               for label, report in reports.items()}
    if engine.vendor != "postgresql":  # the live site's deploys: PostgreSQL 18 and 15 (what is shown is the code's)
        return results
    for label, first in (("worker_replaced", True), ("worker_left", False)):
        story.heading(OPERATIONS[label])
        database = new_database(engine)
        products_table(database, story)
        report, runs = with_an_old_worker(database, story, replace_worker_first=first)
        results[label] = {"figures": worker_figures(report, runs, database), "rows": ROWS}
    return results


def outcome(report: RollingReport) -> dict:
    """Whether the migration succeeded, and the error it ended with if it did not."""
    return {"migration_outcome": "succeeded" if report.migration.ok else "failed",
            "migration_error": "none" if report.migration.ok else report.migration.error_line()}
