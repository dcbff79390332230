"""Filled databases built once per process and copied for every test that asks for the same one.

Filling a table with a million rows and migrating it takes seconds; many tests start from the same filled
table. The first request for a given filling builds it in a template database of its own; every later one
copies that template into the test's new, empty database:

* PostgreSQL: ``CREATE DATABASE … TEMPLATE`` (``STRATEGY FILE_COPY`` from 15 on: a file copy after a
  checkpoint, quicker than logging every page for a large table). The copy has the same pages, visibility
  and statistics as the template, so a migration meets the table it would have met after a fresh fill.
* SQLite: a copy of the database file.
* MariaDB has no template databases: each request fills its own, as it would without this module.

Templates are never handed out, so no test can change one; they are dropped when the process exits.
"""

from __future__ import annotations

import atexit
import shutil
from collections.abc import Callable, Hashable

from .engines import Database, Engine

_templates: dict[tuple, Database] = {}
STATS = {"built": 0, "copied": 0}


def copyable(engine: Engine) -> bool:
    """Whether the engine can copy a whole database quickly."""
    return engine.vendor in ("postgresql", "sqlite")


def filled(database: Database, key: Hashable, build: Callable[[Database], None]) -> bool:
    """Make the new, empty ``database`` what ``build`` makes of an empty database; ``key`` names what it builds.

    ``build`` runs once per engine and key, on a template; every call copies the template. Returns True if an
    earlier call had built it, False if ``build`` ran in this call (on the template, or on ``database`` itself
    where the engine cannot copy)."""
    engine = database.engine
    if not copyable(engine):
        build(database)
        return False
    template = _templates.get((engine, key))
    reused = template is not None
    if template is None:
        template = engine.create_database()
        try:
            build(template)
        except BaseException:
            template.drop()
            raise
        _templates[(engine, key)] = template
        STATS["built"] += 1
    _copy(template, database)
    STATS["copied"] += 1
    return reused


def _copy(template: Database, database: Database) -> None:
    engine = template.engine
    if engine.vendor == "sqlite":
        shutil.copyfile(template.name, database.name)
        return
    # The new database keeps its name, so whoever made it still drops it; nobody is connected to it yet.
    strategy = " STRATEGY FILE_COPY" if engine.major >= 15 else ""
    with engine.connect(engine.server["maintenance_db"]) as connection:
        cursor = connection.cursor()
        cursor.execute(f"DROP DATABASE {database.name}")
        cursor.execute(f"CREATE DATABASE {database.name} TEMPLATE {template.name}{strategy}")


@atexit.register
def _drop_templates() -> None:
    for template in _templates.values():
        try:
            template.drop()
        except Exception:  # the server may be gone already (the embedded one stops at exit too)
            pass
    _templates.clear()
