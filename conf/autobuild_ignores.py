"""What the live preview (sphinx-autobuild) does not watch.

The preview watches the whole repository, because guides include code from
``examples/``. Test runs of the examples write caches and database files
there; a change to those must not trigger a rebuild, or the preview would
rebuild in a loop while tests run.
"""

RE_IGNORE = [
    r"(^|/)(\.git|\.nox|\.venv|_build|__pycache__|\.pytest_cache|\.mypy_cache|\.ruff_cache|node_modules)(/|$)",
    r"\.(pyc|pyo|sqlite3|sqlite|db|log|pid|lock|tmp|swp)$",
    r"\.(sqlite3|sqlite|db)-(journal|wal|shm)$",
    r"(^|/)(\.coverage.*|coverage\.xml|screenshots?/.*)$",
    r"~$",
]
