"""The guides' load is measured on one Django: the SQL of any other Django takes the same locks.

Tests marked ``measures`` run only on the Django leg the evidence is recorded with (see ``lab.pytest_plugin``):
what they time is the engine running the statements Django wrote. Every leg checks that its Django writes the SQL
recorded for it (``evidence/sql/django-X.Y/``). Here, wherever that SQL differs from the SQL measured, both are
traced on a fresh database in the state before the migration, and must take the same lock modes on the same
tables; the contrast, two migrations whose locks do differ, shows that the comparison can tell.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from handbook_rehearse.trace import MigrationTrace
from lab import evidence
from lab.releases import Release, example_module
from lab.trace import migrate_before, trace_statements, traces_needed

CONTRAST = ("remove-a-field", "release_2", "release_2_unsafe", "0002")  # one column made nullable; a drop of two


def statements(path: Path) -> tuple[list[str], bool]:
    """The statements of a file ``sqlmigrate`` printed, and whether they run in one transaction."""
    found, current = [], []
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("--"):
            continue
        current.append(line)
        if line.rstrip().endswith(";"):
            found.append("\n".join(current))
            current = []
    atomic = bool(found) and found[0].strip().upper() == "BEGIN;" and found[-1].strip().upper() == "COMMIT;"
    return (found[1:-1] if atomic else found), atomic


def differing(vendor: str) -> list[tuple[str, str, Path, Path]]:
    """(slug, app label, SQL measured, another Django's SQL) for each migration whose SQL differs on ``vendor``."""
    found = []
    for slug in evidence.examples_with_demonstrations():
        record = evidence.load(slug)
        demo = example_module(slug, "demonstration")
        if not record or not getattr(demo, "SQL", None):
            continue
        measured_dir = evidence.sql_dir(slug, evidence.django_series(record["django"]))
        for release, app_label, migration in demo.SQL:
            measured = measured_dir / f"{release}-{migration}-{vendor}.sql"
            for other in sorted(measured_dir.glob(f"django-*/{measured.name}")):
                if measured.is_file() and other.read_text() != measured.read_text():
                    found.append((slug, app_label, measured, other))
    return found


def locks_taken(engine, new_database, slug: str, app_label: str, sql: Path) -> set[tuple[str, str]]:
    """Every (table, mode) the statements of ``sql`` take, traced from the state before their migration."""
    release, migration, _ = sql.name.rsplit("-", 2)
    sql_statements, atomic = statements(sql)
    taken = set()
    for _ in range(traces_needed(engine.vendor)):
        database = new_database(engine)
        migrate_before(Release(slug, release), app_label, migration, database)
        trace: MigrationTrace = trace_statements(database, sql_statements, atomic=atomic)
        taken |= {(lock.relation, lock.mode) for s in trace.statements for lock in s.locks if lock.granted}
    return taken


@pytest.fixture
def lock_engine(engine):
    if engine.vendor == "sqlite":
        pytest.skip("SQLite has no lock modes: any schema change locks the whole file for writing")
    return engine


def test_other_djangos_sql_takes_the_locks_measured(lock_engine, new_database):
    for slug, app_label, measured, other in differing(lock_engine.vendor):
        taken = {path: locks_taken(lock_engine, new_database, slug, app_label, path) for path in (measured, other)}
        assert taken[measured], f"{measured} took no lock: nothing was traced"
        assert taken[measured] == taken[other], (
            f"{other.relative_to(evidence.EXAMPLES.parent)} takes other locks than the SQL measured "
            f"({measured.name}): {sorted(taken[other])} against {sorted(taken[measured])}; measure this Django's "
            f"load too (HANDBOOK_MEASURES=1 on its leg)")


def test_the_comparison_tells_different_locks_apart(lock_engine, new_database):
    slug, one, another, migration = CONTRAST
    demo = example_module(slug, "demonstration")
    app_label = next(app for release, app, name in demo.SQL if release == one and name == migration)
    record = evidence.load(slug)
    base = evidence.sql_dir(slug, evidence.django_series(record["django"]))
    paths = [base / f"{release}-{migration}-{lock_engine.vendor}.sql" for release in (one, another)]
    first, second = (locks_taken(lock_engine, new_database, slug, app_label, path) for path in paths)
    assert first and second and first != second, (first, second)
