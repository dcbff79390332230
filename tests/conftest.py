import fcntl
import os
import shutil
from pathlib import Path

import pytest

from .handbook import sphinx_build

DONE = ".built"  # written last into a shared build: a worker that finds it knows the build is whole
# A folder that every pytest run of one ``nox -s tests`` shares (set by noxfile.py): the builds read only the
# sources and the recorded evidence, never the running Django, so each Django leg serves the same builds.
SHARED_BUILDS_VARIABLE = "HANDBOOK_TEST_BUILDS"


def shared_build(tmp_path_factory, worker_id: str, name: str, *options: str):
    """A Sphinx build made once per test run, however many pytest-xdist workers (and, under nox, Django legs) ask:
    the first builds, the others wait for it and read the same, untouched, directory. Tests that change a build
    change a copy."""
    across_legs = os.environ.get(SHARED_BUILDS_VARIABLE)
    if worker_id == "master" and not across_legs:  # no xdist: this process alone
        outdir = tmp_path_factory.mktemp(name)
    else:
        # One folder per run, shared by its workers (or by every leg of the nox run).
        shared = Path(across_legs) if across_legs else tmp_path_factory.getbasetemp().parent
        outdir = shared / name
        with open(shared / f"{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if (outdir / DONE).is_file():
                return outdir
            shutil.rmtree(outdir, ignore_errors=True)
            _build(name, outdir, options)
            (outdir / DONE).touch()
            return outdir
    _build(name, outdir, options)
    return outdir


def _build(name: str, outdir, options: tuple[str, ...]) -> None:
    result = sphinx_build(options[0], outdir, *options[1:])
    assert result.returncode == 0, f"The {name} warned or failed:\n{result.stderr}"


@pytest.fixture(scope="session")
def json_build(tmp_path_factory, worker_id):
    """The JSON build of the handbook, made once per test run."""
    return shared_build(tmp_path_factory, worker_id, "json-build", "json", "-t", "embed")


@pytest.fixture(scope="session")
def html_build(tmp_path_factory, worker_id):
    """The standalone HTML build, made once per test run, warnings as errors."""
    return shared_build(tmp_path_factory, worker_id, "html-build", "html")


@pytest.fixture
def json_copy(json_build, tmp_path):
    """A copy of the JSON build for a test to change (the build itself is shared by the run). Links are copied as
    links."""
    copy = tmp_path / "json"
    shutil.copytree(json_build, copy, symlinks=True)
    return copy


@pytest.fixture
def build_root(json_build, tmp_path):
    """A folder for HANDBOOK_BUILD_ROOT whose json/ is the session's JSON build."""
    root = tmp_path / "build"
    root.mkdir()
    (root / "json").symlink_to(json_build, target_is_directory=True)
    return root


@pytest.fixture(autouse=True)
def serve_builds(request, settings):
    """Every test's site serves those builds, to everyone unless the test says otherwise. The lab's timed tests
    serve no handbook: they run alone, after the rest, and need not wait for two Sphinx builds."""
    if request.node.get_closest_marker("measures"):
        return
    settings.HANDBOOK_JSON_BUILD_DIR = request.getfixturevalue("json_build")
    settings.HANDBOOK_HTML_BUILD_DIR = request.getfixturevalue("html_build")
    settings.HANDBOOK_ACCESS = "public"
