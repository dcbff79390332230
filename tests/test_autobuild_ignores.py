"""The live preview ignores what test runs write, and still sees every source change."""

import pytest
from autobuild_ignores import RE_IGNORE
from sphinx_autobuild.filter import IgnoreFilter

from .handbook import REPO

# The live preview's ignore patterns: the same on every Django, so the first leg alone runs it.
pytestmark = pytest.mark.once

WRITTEN_BY_TEST_RUNS = [
    "examples/add-index-concurrently/__pycache__/models.cpython-311.pyc",
    "examples/add-index-concurrently/db.sqlite3",
    "examples/add-index-concurrently/db.sqlite3-journal",
    "examples/add-index-concurrently/db.sqlite3-wal",
    ".pytest_cache/v/cache/lastfailed",
    ".nox/tests-django5-2/pyvenv.cfg",
    "_build/json/globalcontext.json",
    "tests/screenshots/handbook.png",
]
SOURCES = [
    "guides/add-index-concurrently.md",
    "docs/checklist.md",
    "docs/images/deploy-order.svg",
    "examples/add-index-concurrently/release_2/models.py",
    "conf/conf.py",
]


@pytest.mark.parametrize("path", WRITTEN_BY_TEST_RUNS)
def test_files_written_by_test_runs_are_ignored(path):
    assert IgnoreFilter([], RE_IGNORE)(str(REPO / path))


@pytest.mark.parametrize("path", SOURCES)
def test_sources_are_watched(path):
    assert not IgnoreFilter([], RE_IGNORE)(str(REPO / path))
