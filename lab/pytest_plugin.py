"""Pytest fixtures of the lab: engines by test id, fresh databases, progress of long steps.

Tests ask for ``engine`` (every engine), ``postgresql_engine``,
``mariadb_engine``, ``other_engine`` (SQLite and MariaDB), ``development_engine`` (SQLite and the embedded
PostgreSQL) or ``embedded_postgresql_engine``; each becomes one test per engine, its id naming the
engine and its version (``postgresql-18.6``). An engine that is not
available here gives a skipped test whose reason says how to provide it;
with ``HANDBOOK_REQUIRE_ENGINES=1`` (CI, which has them all) it is an error.

Tests marked ``measures`` time locks and requests under load. What they measure is the engine running the
statements Django wrote; ``HANDBOOK_MEASURES=0`` (set by nox on every Django leg but the one the evidence is
recorded with) skips them, and ``tests/test_measured_locks.py`` proves on every leg that the SQL another Django
writes takes the locks that were measured.

Tests marked ``rolls`` roll releases out over several instances (:mod:`lab.rolling`): seconds each, on every engine.
On the other Django legs they, and every other claim of a guide (the tests under examples/), run on the embedded
PostgreSQL alone: there they prove that this Django's ORM and migrations behave as the evidence says, while each
guide's SQL test (``SQL_CHECK``) proves, on every engine, that this Django writes the SQL the evidence ran. What an
engine does with the same SQL does not depend on the Django that wrote it.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import pytest

from . import capacity, claims, engines

# The site's settings refuse to start without a secret key when DEBUG is off, as it is in the tests.
os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-" + os.urandom(24).hex())

REQUIRE_VARIABLE = "HANDBOOK_REQUIRE_ENGINES"
CONTRASTS_OPTION = "--contrasts"
CONTRASTS_VARIABLE = "HANDBOOK_CONTRASTS"
MEASURES_VARIABLE = "HANDBOOK_MEASURES"

ROLES = {
    "engine": ("sqlite", "postgresql-embedded", "postgresql-external", "mariadb"),
    "postgresql_engine": ("postgresql-embedded", "postgresql-external"),
    "mariadb_engine": ("mariadb",),
    # Engines other than PostgreSQL, for claims PostgreSQL's own tests already cover.
    "other_engine": ("sqlite", "mariadb"),
    # The engines of a developer's machine and of most projects' tests: SQLite, and one PostgreSQL.
    "development_engine": ("sqlite", "postgresql-embedded"),
    # The PostgreSQL every machine has, for what is about Django and a project, not the server's version.
    "embedded_postgresql_engine": ("postgresql-embedded",),
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


def _databases():
    """A maker of fresh, empty databases (``make(engine)``) that drops them all when the fixture ends."""
    made = []

    def make(engine: engines.Engine) -> engines.Database:
        made.append(engine.create_database())
        return made[-1]

    yield make
    for database in made:
        database.drop()


@pytest.fixture(scope="session")
def real_site():
    """Skip (or, with ``HANDBOOK_REQUIRE_ENGINES=1``, fail) a test that runs the real site where nginx is missing;
    the reason says how to install it."""
    from .site import NginxMissing, nginx_binary

    try:
        return nginx_binary()
    except NginxMissing as missing:
        if os.environ.get(REQUIRE_VARIABLE) == "1":
            pytest.fail(str(missing))
        pytest.skip(str(missing))


@pytest.fixture
def live_site_engine(engine):
    """The engine of a deploy of several steps on the live site (:class:`lab.site_deploy.LiveSite`): PostgreSQL 18
    and 15 only, where what such a deploy shows is the release's code, not the engine."""
    if engine.vendor != "postgresql":
        pytest.skip("the live site's deploys run on PostgreSQL 18 and 15: what they show is the release's code")
    return engine


@pytest.fixture
def new_database():
    """Make fresh, empty databases on an engine: ``new_database(engine)``; dropped after the test."""
    yield from _databases()


@pytest.fixture(scope="module")
def module_databases():
    """Make fresh, empty databases for a whole test module's story: ``module_databases(engine)``; dropped once
    the module's tests are done."""
    yield from _databases()


def pytest_addoption(parser):
    parser.addoption(
        CONTRASTS_OPTION, action="store_true",
        help="also run every guide claim against its contrast; a contrast that holds too fails the test",
    )


def pytest_configure(config):
    if not hasattr(config, "workerinput") and not os.environ.get(capacity.SHARED_VARIABLE):
        # One measure of the real site's capacity for the whole run, shared with pytest-xdist's workers.
        folder = tempfile.mkdtemp(prefix="handbook-capacity-")
        os.environ[capacity.SHARED_VARIABLE] = os.path.join(folder, "capacity.json")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    claims.MODE["contrasts"] = config.getoption(CONTRASTS_OPTION) or os.environ.get(CONTRASTS_VARIABLE) == "1"
    config.addinivalue_line(
        "markers", f"measures: times locks and requests under load; {MEASURES_VARIABLE}=0 skips it (see lab.pytest_plugin)")
    config.addinivalue_line(
        "markers", f"rolls: rolls releases out; {MEASURES_VARIABLE}=0 runs it on the embedded PostgreSQL only")


def pytest_collection_modifyitems(config, items):
    if os.environ.get(MEASURES_VARIABLE, "1") != "0":
        return
    import django

    skip = pytest.mark.skip(reason=f"measured on the Django leg the evidence is recorded with, not on Django "
                                   f"{django.get_version()} ({MEASURES_VARIABLE}=0); tests/test_measured_locks.py "
                                   f"checks that this Django's SQL takes the same locks")
    rolled_elsewhere = pytest.mark.skip(reason=f"rolled out on every engine on the Django leg the evidence is recorded "
                                                f"with; on Django {django.get_version()} on the embedded PostgreSQL")
    claimed_elsewhere = pytest.mark.skip(reason=f"a guide's claim, checked on every engine on the Django leg the "
                                                 f"evidence is recorded with; on Django {django.get_version()} on the "
                                                 f"embedded PostgreSQL, while the guide's SQL is checked on every engine")
    for item in items:
        if item.get_closest_marker("measures"):
            item.add_marker(skip)
        elif _on_embedded_engine(item):
            continue
        elif item.get_closest_marker("rolls"):
            item.add_marker(rolled_elsewhere)
        elif _guide_claim(item):
            item.add_marker(claimed_elsewhere)


# Each guide's test that what this Django's sqlmigrate prints is the SQL the evidence ran: on every engine, every leg.
SQL_CHECK = "test_sql_shown_in_the_guide_is_what_sqlmigrate_prints"


def _guide_claim(item) -> bool:
    """Whether a test is one of a guide's (under examples/), other than its SQL check."""
    return "examples" in item.path.parts and getattr(item, "originalname", item.name) != SQL_CHECK


def _on_embedded_engine(item) -> bool:
    """Whether a test runs on the embedded PostgreSQL (or on no engine at all)."""
    params = getattr(item, "callspec", None)
    found = [value for name, value in (params.params.items() if params else ()) if name in ROLES]
    return all(isinstance(engine, engines.Engine) and engine.origin == "embedded" for engine in found)


_seconds: dict[str, float] = {}
TALLY_KEY = "handbook_claims"


def pytest_sessionfinish(session):
    output = getattr(session.config, "workeroutput", None)
    if output is not None:  # a pytest-xdist worker: its claims are counted in the controlling process
        output[TALLY_KEY] = dict(claims.TALLY)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    claims.TALLY.update(getattr(node, "workeroutput", {}).get(TALLY_KEY, {}))


def _part(nodeid: str) -> str:
    """What a test belongs to, for the time summary: its guide's slug, or the folder of other tests."""
    parts = nodeid.split("::")[0].split("/")
    if parts[0] in ("examples", "guides") and len(parts) > 1:
        return parts[1].removesuffix(".md")  # examples/<slug>/tests/..., guides/<slug>.md
    return f"{parts[0]}/"


def pytest_runtest_logreport(report):
    part = _part(report.nodeid)
    _seconds[part] = _seconds.get(part, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _seconds:
        # What each guide costs the test run: the figure to keep the whole suite within CI's budget.
        costs = ", ".join(f"{part} {seconds:.0f} s" for part, seconds in sorted(_seconds.items(), key=lambda i: -i[1]))
        terminalreporter.write_sep("-", f"time by guide: {costs}")
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
