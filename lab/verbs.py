"""The verbs a demonstration tells its story with, each told to a :class:`~lab.story.Story`.

* :func:`filled_table`: a release's schema, its table filled with production-like rows;
* :func:`deploy`: a new release migrated while the old one serves, locks watched;
* :func:`serve_while`: any other step (a fill, a statement) run while a release serves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from . import templates
from .deploy import DeployReport, migrate, rolling_deploy, while_serving
from .engines import Database
from .fill import fill
from .releases import CommandRun, Release
from .story import Story


def filled_table(database: Database, releases: Sequence[Release], table: str, columns: dict[str, str], rows: int,
                 story: Story) -> None:
    """Migrate ``releases[0]``, fill ``table`` with ``rows`` rows (``columns``: SQL of ``i``), then migrate the rest.

    The same filling asked for again in this process is a copy of the first (:mod:`lab.templates`)."""
    def build(target: Database) -> None:
        for position, release in enumerate(releases):
            migration = migrate(release, target)
            if not migration.ok:
                raise RuntimeError(f"migrating {release.name} failed:\n{migration.stderr}")
            if position == 0:
                with story.progress(f"Filling {table} with {rows:,} rows", rows) as advance:
                    fill(target, table, columns, rows, progress=lambda done, total: advance(done))

    key = ("filled_table", tuple(releases), table, tuple(columns.items()), rows)
    if templates.filled(database, key, build):
        story.say(f"{table}: a copy of the {rows:,} rows filled before")


def deploy(database: Database, old: Release, new: Release, story: Story, tables: list[str],
           before_migration: Callable[[], None] | None = None,
           migrate_with: Callable[[], CommandRun] | None = None) -> DeployReport:
    """Deploy ``new`` while ``old`` serves, watching locks on ``tables``; says what happened.
    ``before_migration`` runs just before the migration starts (e.g. a transaction it must wait for);
    ``migrate_with`` migrates instead of plain ``migrate`` (a wrapper command, other settings)."""
    with story.step(f"Deploying {new.name} while {old.name} keeps serving"):
        report = rolling_deploy(old, new, database, watch_tables=tables, before_migration=before_migration,
                                migrate_with=migrate_with)
    story.say(report.summary())
    return report


def serve_while(database: Database, release: Release, what: str, step: Callable[[], CommandRun], story: Story,
                tables: list[str]) -> DeployReport:
    """Run ``step`` (described by ``what``) while ``release`` serves, watching locks on ``tables``."""
    with story.step(f"{what} while {release.name} serves"):
        report = while_serving(release, database, step, watch_tables=tables)
    story.say(report.summary())
    return report
