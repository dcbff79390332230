"""The guide's story on a real database: what going back loses, and what to do instead.

An AddField reversed drops the values written since the deploy; rolling the code back alone keeps them. A
RemoveField reversed brings the column back without its values; the state-only removal, reversed, loses none.

Used by ``nox -s demo -- go-forwards-only`` (to tell it), by ``nox -s evidence`` (to record it for the guide) and by
the tests (to check it).
"""

from __future__ import annotations

from lab import schema, verbs
from lab.deploy import migrate
from lab.engines import Database
from lab.releases import CommandRun, Release
from lab.rolling import NO_MIGRATION, RollingReport, rolling
from lab.story import Story

SLUG = "go-forwards-only"
TABLE = "shop_product"
COLUMNS = {"name": "'Teapot'", "code": "i"}  # the id as the code: a value in every row
# What going back loses is counted row by row; the table's size does not change it: every step runs on this many.
ROWS = 10_000
RELEASE_1 = Release(SLUG, "release_1")
RELEASE_2 = Release(SLUG, "release_2")  # adds a nullable note, and writes it
DROP = Release(SLUG, "release_3_drop")  # RemoveField, as makemigrations writes it
STATE_ONLY = Release(SLUG, "release_3_state_only")  # the same removal, from Django's state only
OPERATIONS = {
    "deploy": "Release 2 rolled out (AddField note)",
    "code_rollback": "Release 1 rolled back in, schema kept",
    "reversal": "migrate shop 0001, then release 2 again",
    "drop_code_rollback": "Release 2 rolled back in over the RemoveField",
    "drop_reversed": "RemoveField, reversed",
    "state_only_reversed": "State-only removal, reversed",
}
MIGRATION_STEPS = ["deploy", "drop_reversed", "state_only_reversed"]
SQL = [
    ("release_2", "shop", "0002"),
    ("release_3_drop", "shop", "0003-backwards"),  # what reversing the generated RemoveField runs
]


# A product whose code holds a value: every product before the removal.
HAS_CODE = "code IS NOT NULL AND code <> ''"


def products_table(database, story: Story, releases: list[Release] | None = None) -> None:
    """Release 1's schema with :data:`ROWS` products (then the later ``releases`` migrated, if any)."""
    verbs.filled_table(database, [RELEASE_1, *(releases or [])], TABLE, COLUMNS, ROWS, story)


def count(database: Database, where: str) -> int:
    """Products matching ``where`` (SQL)."""
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute(f"SELECT COUNT(*) FROM {TABLE} WHERE {where}")
        return cursor.fetchone()[0]


def notes(database: Database) -> int:
    """Products with a note: what release 2 wrote."""
    return count(database, "note IS NOT NULL")


def reversed_to(database: Database, release: Release, target: str, story: Story) -> CommandRun:
    """``migrate shop TARGET`` with ``release``'s migrations: Django reverses every later one."""
    with story.step(f"Reversing {release.name}'s migrations to {target}"):
        run = release.run("migrate", "shop", target, "--no-input", database=database)
    story.say("done" if run.ok else f"FAILED: {run.error_line()}")
    return run


def going_back_after_an_add_field(database: Database, story: Story) -> dict:
    """Release 2 rolled out; release 1 rolled back in with the schema kept; then the migration reversed and
    release 2 rolled out again. Notes counted at each step."""
    deploy = rolling(database, RELEASE_1, RELEASE_2, story, [TABLE])
    deployed = notes(database)
    # Release 2's instances write notes until the last of them is replaced: all of them are in the column after.
    code_rollback = rolling(database, RELEASE_2, RELEASE_1, story, [TABLE], migrate_when=NO_MIGRATION)
    kept = notes(database)
    reversal = reversed_to(database, RELEASE_2, "0001", story)
    again = migrate(RELEASE_2, database)
    left = notes(database)
    story.say(f"Notes: {deployed:,} once release 2 served alone; {kept:,} once release 1 was back, release 2's "
              f"last instance gone; {left:,} after reversing the migration and applying it again")
    return {"deploy": deploy, "code_rollback": code_rollback, "reversal": reversal, "again": again,
            "notes": {"after_deploy": deployed, "after_code_rollback": kept, "after_reversal": left}}


def going_back_after_a_removal(database: Database, release: Release, story: Story) -> dict:
    """``release``'s removal of ``code`` migrated, then reversed: how many products lost their code."""
    before = count(database, HAS_CODE)
    forwards = migrate(release, database)
    backwards = reversed_to(database, release, "0002", story)
    back = "code" in schema.columns(database, TABLE)  # a failed reversal leaves the column out
    lost = before - (count(database, HAS_CODE) if back else 0)
    values = count(database, "code = ''") if back else 0
    story.say(f"{release.name}: {lost:,} of {before:,} products lost their code"
              + (f" ({values:,} now hold '')" if back else " (the column did not come back)"))
    return {"forwards": forwards, "backwards": backwards, "lost": lost, "empty": values, "column_back": back}


def code_back_over_the_drop(database: Database, story: Story) -> RollingReport:
    """The generated RemoveField migrated, then release 2's code rolled back in over release 3, schema kept."""
    migration = migrate(DROP, database)
    if not migration.ok:
        raise RuntimeError(f"migrating {DROP.name} failed:\n{migration.stderr}")
    return rolling(database, DROP, RELEASE_2, story, [TABLE], migrate_when=NO_MIGRATION)


def demonstrate(engine, rows: int, story: Story, new_database) -> dict:
    """Going back after an AddField, then after each removal; each on a fresh table of :data:`ROWS` rows
    (``rows`` is not used)."""
    story.heading("An AddField: roll the code back, then reverse the migration")
    database = new_database(engine)
    products_table(database, story)
    added = going_back_after_an_add_field(database, story)
    results = {label: {"figures": added[label].figures(TABLE), "report": added[label], "rows": ROWS}
               for label in ("deploy", "code_rollback")}
    results["deploy"]["figures"]["values_left"] = added["notes"]["after_deploy"]
    results["code_rollback"]["figures"]["values_left"] = added["notes"]["after_code_rollback"]
    results["reversal"] = {"figures": {"values_left": added["notes"]["after_reversal"],
                                       "migration_outcome": "succeeded" if added["reversal"].ok else "failed"},
                           "rows": ROWS}

    story.heading("Rolling the code back over a change that was not additive: release 2 over the RemoveField")
    database = new_database(engine)
    products_table(database, story, [RELEASE_2])
    report = code_back_over_the_drop(database, story)
    results["drop_code_rollback"] = {"figures": report.figures(TABLE), "report": report, "rows": ROWS}

    for label, release in (("drop_reversed", DROP), ("state_only_reversed", STATE_ONLY)):
        story.heading(f"Going back after {OPERATIONS[label].split(',')[0]}")
        database = new_database(engine)
        products_table(database, story, [RELEASE_2])
        outcome = going_back_after_a_removal(database, release, story)
        results[label] = {"figures": {"values_lost": outcome["lost"], "empty_values": outcome["empty"],
                                      "migration_outcome": "succeeded" if outcome["backwards"].ok else "failed",
                                      "first_error": outcome["backwards"].error_line() or None},
                          "rows": ROWS}
    return results
