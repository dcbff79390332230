"""The lock trace of an example's migrations (:mod:`handbook_rehearse.trace`, the instrument ``manage.py rehearse``
ships) run the lab's way: each migration's statements collected by a process of the release, as ``sqlmigrate``
collects them (``python -m lab.trace``), so custom operations in the example's migration files are honoured; then
traced on the database by this process, with MariaDB's ``metadata_lock_info`` plugin installed where it is missing.

:func:`trace_migration` traces one migration and leaves the database as a measurement does (see
:mod:`handbook_rehearse.trace`: trace on a throwaway database). :func:`trace_chain` traces a chain of migrations and
leaves each applied, committed and recorded, as ``migrate`` would.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

from handbook_rehearse import trace as instrument
from handbook_rehearse.lockmodes import strongest_first
from handbook_rehearse.trace import MigrationTrace

from . import zygote
from .engines import Database
from .releases import Release, example_dir

# Where locks are seen by polling (MariaDB), the evidence and the tests unite this many traces.
POLLED_TRACES = 3


def migrate_before(release: Release, app_label: str, migration_name: str, database: Database) -> None:
    """Migrate ``app_label`` to just before ``migration_name`` (a name or its prefix, such as ``0002``)."""
    _in_release(release, database, "before", app_label, migration_name)


def trace_migration(release: Release, app_label: str, migration_name: str, database: Database) -> MigrationTrace:
    """Trace one migration of a release on a database that is in the state just before it."""
    collected = json.loads(_in_release(release, database, "statements", app_label, migration_name))
    return trace_statements(database, collected["statements"], atomic=collected["atomic"],
                            migration=collected["migration"])


def trace_chain(release: Release, app_label: str, database: Database, until: str | None = None) -> list[MigrationTrace]:
    """Trace each migration of ``app_label`` not yet applied, in order, up to ``until`` (a name or its prefix; the
    last one if None), leaving each applied as ``migrate`` would: its statements committed, the migration recorded.

    One process of the release serves the whole chain. It collects a migration's statements only once the ones
    before it are applied, since Django reads the schema to write some statements (the name of a foreign key to
    drop...).
    """
    process = release.start("-m", "lab.trace", "chain", app_label, *([until] if until else []), database=database,
                            role="trace", stdin=True)
    traces = []
    try:
        for line in process.stdout:
            collected = json.loads(line)
            traces.append(trace_statements(database, collected["statements"], atomic=collected["atomic"],
                                           migration=collected["migration"], commit=True))
            process.stdin.write("applied\n")  # the process records it, then collects the next one
            process.stdin.flush()
    finally:
        process.stdin.close()  # on a failed statement, the process reads the end of its input and stops
        errors = process.stderr.read()
        process.wait(timeout=60)
    if process.returncode != 0:
        raise RuntimeError(f"lab.trace chain failed in {release.name}:\n{errors}")
    return traces


def traced_modes(release: Release, app_label: str, migrations: list[str], database: Database,
                 tables: list[str]) -> dict[str, list[str]] | None:
    """Every lock mode the migrations of ``release`` from ``migrations[0]`` to ``migrations[-1]`` take on each of
    ``tables``, strongest first, traced statement by statement on ``database`` (a new one: it is migrated to just
    before the first). What a guide's table shows, where a sampler could miss a brief lock. None on SQLite, which has
    no lock modes."""
    if database.engine.vendor == "sqlite":
        return None
    migrate_before(release, app_label, migrations[0], database)
    traces = trace_chain(release, app_label, database, migrations[-1])
    taken = [lock for trace in traces for statement in trace.statements for lock in statement.locks]
    return {table: instrument.modes_on(taken, table) for table in tables}


def traced_step(release: Release, migrations: list[str], fresh: Callable[[], Database], tables: list[str], story,
                app_label: str = "shop") -> dict[str, list[str]] | None:
    """:func:`traced_modes` on a database ``fresh()`` makes, told to ``story`` (a :class:`lab.story.Story`): a
    demonstration's traced lock modes. Where locks are seen by polling (MariaDB), the union of
    :func:`traces_needed` traces, each on a database of its own."""
    with story.step(f"Tracing the locks of {release.name}'s migrations {migrations[0]} to {migrations[-1]}"):
        database = fresh()
        if database.engine.vendor == "sqlite":
            return None
        united: dict[str, set[str]] = {table: set() for table in tables}
        for attempt in range(traces_needed(database.engine.vendor)):
            traced = traced_modes(release, app_label, migrations, database if attempt == 0 else fresh(), tables)
            for table in tables:
                united[table] |= set(traced[table])
        return {table: strongest_first(modes) for table, modes in united.items()}


def traces_needed(vendor: str) -> int:
    """How many traces to unite on an engine: PostgreSQL's locks are read after each statement, exactly (one);
    MariaDB's are seen by polling while a statement runs, which can miss a brief one (:data:`POLLED_TRACES`)."""
    return POLLED_TRACES if vendor == "mysql" else 1


def trace_steps(steps: dict, results: dict, engine, new_database, story) -> None:
    """Add to a demonstration's ``results`` the lock modes each step's migrations take, traced (:func:`traced_step`).
    ``steps`` maps a step's label to (release, migrations, {figure name: table}); a dotted name, such as
    ``referenced.traced_lock_modes``, goes into the step's figures under ``referenced``. Steps not in ``results`` (not
    run on this engine) are skipped."""
    for label, (release, migrations, figures) in steps.items():
        if label not in results:
            continue
        traced = traced_step(release, migrations, lambda: new_database(engine), list(figures.values()), story)
        for name, table in figures.items():
            *path, key = name.split(".")
            target = results[label]["figures"]
            for part in path:
                target = target[part]
            target[key] = traced and traced[table]


def trace_statements(database: Database, statements: list[str], *, atomic: bool = True,
                     migration: str = "", commit: bool = False) -> MigrationTrace:
    """:func:`handbook_rehearse.trace.trace_statements` on one of the lab's databases."""
    return instrument.trace_statements(database.connect, database.engine.vendor, statements, atomic=atomic,
                                       migration=migration, commit=commit, label=database.engine.label,
                                       install_plugin=True)


def _in_release(release: Release, database: Database, *args: str) -> str:
    """Run this module in a process of the release; its output."""
    result = zygote.run(["-m", "lab.trace", *args], cwd=example_dir(release.slug),
                        env=release.environment(database, "trace"), timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"lab.trace {' '.join(args)} failed in {release.name}:\n{result.stderr}")
    return result.stdout


# Inside a process of the release.

def _main(verb: str, app_label: str, migration_name: str | None = None) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    if verb == "chain":
        _chain(connection, app_label, migration_name)
        return
    loader = MigrationLoader(connection, replace_migrations=False)
    migration = loader.get_migration_by_prefix(app_label, migration_name)
    if verb == "before":
        node = loader.graph.node_map[(app_label, migration.name)]
        parents = [parent.key[1] for parent in node.parents if parent.key[0] == app_label]
        if len(parents) > 1:
            raise SystemExit(f"{migration.name} merges {parents}: migrate to the state before it yourself.")
        call_command("migrate", app_label, parents[0] if parents else "zero", verbosity=0)
        return
    json.dump(_collected(loader, connection, migration), sys.stdout)


def _collected(loader, connection, migration) -> dict:
    """A migration's statements, as sqlmigrate collects them, and whether Django runs them in one transaction."""
    collected = loader.collect_sql([(migration, False)])
    return {
        "migration": f"{migration.app_label}.{migration.name}",
        # Django runs a migration in one transaction only where DDL can be rolled back.
        "atomic": migration.atomic and connection.features.can_rollback_ddl,
        # sqlmigrate's comments go, except the one standing for Python code.
        "statements": [sql for sql in collected if not sql.startswith("--") or sql == instrument.PYTHON_OPERATION],
    }


def _chain(connection, app_label: str, until: str | None) -> None:
    """For each migration still to apply: print its statements (a JSON line), wait until the tracer has run them,
    then record it as applied. Stops at the end of the input."""
    from django.db.migrations.executor import MigrationExecutor
    from django.db.migrations.recorder import MigrationRecorder

    executor = MigrationExecutor(connection)
    loader = executor.loader
    last = loader.get_migration_by_prefix(app_label, until).name if until else None
    target = (app_label, last) if last else next(n for n in loader.graph.leaf_nodes() if n[0] == app_label)
    for migration, _backwards in executor.migration_plan([target]):  # forwards only: a target ahead
        print(json.dumps(_collected(loader, connection, migration)), flush=True)
        if sys.stdin.readline().strip() != "applied":
            return
        MigrationRecorder(connection).record_applied(migration.app_label, migration.name)


if __name__ == "__main__":
    _main(*sys.argv[1:])
