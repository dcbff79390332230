"""Pytest fixtures of the lab: engines by test id, fresh databases, progress of long steps.

Tests ask for ``engine`` (every engine), ``postgresql_engine``,
``mariadb_engine`` or ``other_engine`` (SQLite and MariaDB); each becomes one test per engine, its id naming the
engine and its version (``postgresql-18.6``). An engine that is not
available here gives a skipped test whose reason says how to provide it;
with ``HANDBOOK_REQUIRE_ENGINES=1`` (CI, which has them all) it is an error.
"""

from __future__ import annotations

import os

import pytest

from . import claims, engines

REQUIRE_VARIABLE = "HANDBOOK_REQUIRE_ENGINES"
CONTRASTS_OPTION = "--contrasts"
CONTRASTS_VARIABLE = "HANDBOOK_CONTRASTS"

ROLES = {
    "engine": ("sqlite", "postgresql-embedded", "postgresql-external", "mariadb"),
    "postgresql_engine": ("postgresql-embedded", "postgresql-external"),
    "mariadb_engine": ("mariadb",),
    # Engines other than PostgreSQL, for claims PostgreSQL's own tests already cover.
    "other_engine": ("sqlite", "mariadb"),
}
_found: dict | None = None


def _engines() -> dict:
    global _found
    if _found is None:
        _found = engines.available()
    return _found


def pytest_generate_tests(metafunc):
    for fixture, roles in ROLES.items():
        if fixture not in metafunc.fixturenames:
            continue
        params = []
        for role in roles:
            found = _engines()[role]
            if isinstance(found, engines.Engine):
                params.append(pytest.param(found, id=found.id))
            elif os.environ.get(REQUIRE_VARIABLE) == "1":
                raise pytest.UsageError(f"{REQUIRE_VARIABLE}=1 but an engine is missing: {found}")
            else:
                params.append(pytest.param(None, id=f"{role}-unavailable", marks=pytest.mark.skip(reason=str(found))))
        metafunc.parametrize(fixture, params, scope="module")


@pytest.fixture
def new_database():
    """Make fresh, empty databases on an engine: ``new_database(engine)``; dropped after the test."""
    made = []

    def make(engine: engines.Engine) -> engines.Database:
        database = engine.create_database()
        made.append(database)
        return database

    yield make
    for database in made:
        database.drop()


def pytest_addoption(parser):
    parser.addoption(
        CONTRASTS_OPTION, action="store_true",
        help="also run every guide claim against its contrast; a contrast that holds too fails the test",
    )


def pytest_configure(config):
    claims.MODE["contrasts"] = config.getoption(CONTRASTS_OPTION) or os.environ.get(CONTRASTS_VARIABLE) == "1"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    ran = claims.TALLY
    if not ran["claims"]:
        return
    if claims.MODE["contrasts"]:
        held = ran["contrasts held"]
        verdict = f"{held} HELD TOO (their tests cannot fail)" if held else "each failing as it must"
        line = f"{ran['claims']} guide claims checked; {ran['contrasts']} contrasts run, {verdict}"
    else:
        line = f"{ran['claims']} guide claims checked; contrasts not run ({CONTRASTS_OPTION} runs them)"
    terminalreporter.write_sep("-", line)
