"""Tasks of the handbook: serve it, preview it, build it, test it, benchmark it.

    nox -s serve            the handbook embedded in a Django site, on http://127.0.0.1:8000/
    nox -s serve -- --production   the same behind gunicorn, DEBUG off, settings from the environment
    nox -s tests            every test, on each supported Django (nox -s tests -- ARGS for pytest)
    nox -s docs             the standalone HTML site in _build/html, warnings as errors
    nox -s autobuild        live preview of the standalone site on http://127.0.0.1:8001/
    nox -s demo -- SLUG     a guide's demonstration on a throwaway PostgreSQL, with progress
    nox -s evidence         re-run the demonstrations on every engine; write the guides' evidence
    nox -s sql              record the SQL of the other Django versions (run by nox -s evidence)
    nox -s bench            speed figures: the site in production, its search, the build, index builds (prints only)
"""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nox

nox.needs_version = ">=2025.2.9"
nox.options.default_venv_backend = "venv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["tests"]

ROOT = Path(__file__).resolve().parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
BUILD = ROOT / "_build"
SPHINX = ["-c", "conf", "-n", "--keep-going"]
SERVE_ADDRESS = "127.0.0.1:8000"
PREVIEW_PORT = "8001"
# Workers for the tests that time nothing, even on two cores: most of their time is spent waiting (rollouts sleep
# between replacements, commands and servers start), so four overlap where two would idle. Each worker starts its own
# PostgreSQL; the Sphinx builds are made once per run and shared (tests/conftest.py).
TEST_WORKERS = 4
# The Sphinx builds the tests serve, made by the first Django leg of a run and read by the others (tests/conftest.py):
# a build reads the sources and the recorded evidence, never the running Django.
SHARED_BUILDS_VARIABLE = "HANDBOOK_TEST_BUILDS"
_shared_builds: list[str] = []


def shared_builds() -> str:
    """A folder for this nox run's test builds, removed when nox exits."""
    if not _shared_builds:
        _shared_builds.append(tempfile.mkdtemp(prefix="handbook-test-builds-"))
        atexit.register(shutil.rmtree, _shared_builds[0], ignore_errors=True)
    return _shared_builds[0]


def groups(*names: str) -> list[str]:
    """The pinned requirements of dependency groups in pyproject.toml."""
    return nox.project.dependency_groups(PYPROJECT, *names)


def interpreter(versions: tuple[str, ...]) -> str | None:
    """The first of ``versions`` whose ``pythonX.Y`` runs here, or None."""
    for version in versions:
        executable = shutil.which(f"python{version}")
        # A pyenv shim exists for every installed version, active or not: run it to know.
        if executable and subprocess.run([executable, "-c", ""], capture_output=True).returncode == 0:
            return version
    return None


# Django 5.2 LTS runs on 3.11+; Django 6 needs Python 3.12+.
DJANGO_LEGS = [
    ("5.2", "django52", interpreter(("3.11", "3.12", "3.13"))),
    ("6.1", "django61", interpreter(("3.13", "3.12"))),
]


def build_json(session: nox.Session, *extra: str) -> None:
    """The JSON build that the embedded site serves."""
    session.run("sphinx-build", "-b", "json", "-t", "embed", *SPHINX, *extra, ".", str(BUILD / "json"))


def build_html(session: nox.Session, *extra: str) -> None:
    """The standalone HTML site."""
    session.run("sphinx-build", "-b", "html", *SPHINX, *extra, ".", str(BUILD / "html"))


@nox.session
def serve(session: nox.Session) -> None:
    """Build the pages and serve them in the Django site: nox -s serve [-- [--production] ADDRESS:PORT].

    Plain, Django's development server with DEBUG on. With ``--production``: gunicorn, the site's static files
    through WhiteNoise, DEBUG off and every setting from the environment (production.env lists them)."""
    production = "--production" in session.posargs
    addresses = [arg for arg in session.posargs if arg != "--production"]
    address = addresses[0] if addresses else SERVE_ADDRESS
    if production and not os.environ.get("DJANGO_SECRET_KEY"):
        session.error("Production takes its settings from the environment: set DJANGO_SECRET_KEY (and "
                      "DJANGO_ALLOWED_HOSTS, DJANGO_HTTPS...; conf/handbook_site/production.env lists them).")
    session.install(*groups("site", "django52"))
    build_json(session, "-q")
    build_html(session, "-q")
    # A developer's machine: DEBUG on, said out loud (the site's default is off).
    env = {} if production else {"DJANGO_DEBUG": "1"}
    session.run("python", "manage.py", "migrate", "--noinput", "-v", "0", env=env)
    session.log(f"The handbook: http://{address}/handbook/  (standalone build: http://{address}/standalone/)")
    if not production:
        session.run("python", "manage.py", "runserver", address, env=env)
        return
    session.run("python", "manage.py", "collectstatic", "--noinput", "-v", "0")
    session.run("gunicorn", "-c", "conf/handbook_site/gunicorn.conf.py", env={"GUNICORN_BIND": address})


@nox.session
def docs(session: nox.Session) -> None:
    """Build the standalone HTML site; any warning fails the build."""
    session.install(*groups("docs"))
    build_html(session, "-W", *session.posargs)
    session.log(f"Built: {BUILD / 'html' / 'index.html'}")


@nox.session
def autobuild(session: nox.Session) -> None:
    """Live preview that rebuilds on every change: nox -s autobuild [-- sphinx-autobuild options]."""
    session.install(*groups("autobuild"))
    sys.path.insert(0, str(ROOT / "conf"))
    from autobuild_ignores import RE_IGNORE

    ignores = [arg for pattern in RE_IGNORE for arg in ("--re-ignore", pattern)]
    args = session.posargs or ["--port", PREVIEW_PORT, "--open-browser"]
    session.run("sphinx-autobuild", *SPHINX, *ignores, *args, ".", str(BUILD / "autobuild"))


@nox.session
@nox.parametrize(
    "python,django,group",
    # python=False: no interpreter for this leg, so no virtualenv; the session says why.
    [nox.param(python or False, django, group, id=f"django{django}") for django, group, python in DJANGO_LEGS],
)
def tests(session: nox.Session, django: str, group: str) -> None:
    """Every test on one Django version: nox -s tests [-- pytest arguments]."""
    if not session.python:
        message = f"No Python 3.12+ interpreter found (python3.12, python3.13): the Django {django} leg cannot run."
        if os.environ.get("CI"):
            session.error(message)
        session.skip(message)
    session.install(*groups("test", group))
    # Load is measured on the leg the evidence is recorded with; the others prove their SQL takes the same locks.
    measures = os.environ.get("HANDBOOK_MEASURES", "1" if django == DJANGO_LEGS[0][0] else "0")
    session.log(f"Django {django} on Python {session.python}" + ("" if measures == "1" else "; load not measured"))
    env = {"HANDBOOK_MEASURES": measures, SHARED_BUILDS_VARIABLE: shared_builds()}
    if session.posargs:
        session.run("pytest", *session.posargs, env=env)
        return
    # Only the measurements time anything: the rest shares the cores, a file to a worker (a guide's code blocks
    # share one namespace; module fixtures are built once); then the measurements run alone.
    workers = ["-n", str(TEST_WORKERS), "--dist", "loadfile"]
    # Tests marked "once" (a Sphinx rebuild, the wheel, publishing) prove the same on every Django: the first leg
    # runs them.
    first_leg = django == DJANGO_LEGS[0][0]
    if not first_leg:
        # A contrast proves that a check can fail: the leg the evidence is recorded with runs them, the others
        # check the claims alone.
        env["HANDBOOK_CONTRASTS"] = "0"
    session.run("pytest", "-m", "not measures" if first_leg else "not measures and not once", *workers, env=env)
    if measures == "1":
        session.run("pytest", "-m", "measures", env=env)


@nox.session
def bench(session: nox.Session) -> None:
    """Print speed figures of the embed and of the build; asserts nothing."""
    session.install(*groups("site", "lab", "django52"))
    session.run("python", "tests/benchmarks/production_serving.py")
    session.run("python", "tests/benchmarks/search_cost.py")
    session.run("python", "tests/benchmarks/build_speed.py")
    session.run("python", "tests/benchmarks/index_build_waits.py", env={"PYTHONPATH": str(ROOT)})
    session.run("python", "tests/benchmarks/fill_speed.py", env={"PYTHONPATH": str(ROOT)})
    session.run("python", "tests/benchmarks/process_start.py", env={"PYTHONPATH": str(ROOT)})
    session.run("python", "tests/benchmarks/site_capacity.py", env={"PYTHONPATH": str(ROOT)})


@nox.session
def demo(session: nox.Session) -> None:
    """Tell a guide's story on the embedded PostgreSQL: nox -s demo -- SLUG [--rows N]."""
    session.install(*groups("lab", "django52"))
    session.run("python", "-m", "lab.demo", *(session.posargs or ["--help"]))


@nox.session
def evidence(session: nox.Session) -> None:
    """Run the demonstrations on every engine available and write their evidence: nox -s evidence [-- SLUG].

    The figures are measured on Django 5.2 LTS; then the ``sql`` session of every other Django leg records
    what that Django's sqlmigrate prints, so that each test leg checks its own SQL."""
    session.install(*groups("lab", "plots", "django52"))
    session.run("python", "-m", "lab.evidence", *session.posargs)
    for django, _group, python in DJANGO_LEGS[1:]:
        if python:
            session.notify(f"sql(django{django})", session.posargs)
        else:
            session.warn(f"No interpreter for the Django {django} leg: its SQL was not recorded.")


@nox.session
@nox.parametrize(
    "python,django,group",
    [nox.param(python or False, django, group, id=f"django{django}") for django, group, python in DJANGO_LEGS[1:]],
)
def sql(session: nox.Session, django: str, group: str) -> None:
    """Record what sqlmigrate prints on one more Django: nox -s sql [-- SLUG] (run by nox -s evidence)."""
    if not session.python:
        session.skip(f"No interpreter for the Django {django} leg.")
    session.install(*groups("lab", group))
    session.run("python", "-m", "lab.evidence", "--sql-only", *slugs(session.posargs))


def slugs(posargs: list[str]) -> list[str]:
    """The example slugs among ``nox -s evidence`` arguments (``--rows N`` and other options dropped)."""
    found, skip = [], False
    for arg in posargs:
        if skip or arg.startswith("-"):
            skip = arg == "--rows"
            continue
        found.append(arg)
    return found
