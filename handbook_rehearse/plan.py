"""What a rehearsal will run: the migrations not applied yet, their SQL, and the tables they touch."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.core.management.base import CommandError
from django.db import migrations
from django.db.migrations.exceptions import AmbiguityError
from django.db.migrations.executor import MigrationExecutor

# sqlmigrate's placeholder for RunPython: its queries are seen only when it runs.
PYTHON_OPERATION = "-- THIS OPERATION CANNOT BE WRITTEN AS SQL"


@dataclass
class Step:
    """One migration to rehearse: its statements as ``sqlmigrate`` prints them, and the tables they name."""

    migration: object
    statements: list[str]
    tables: set[str] = field(default_factory=set)

    @property
    def models(self) -> set[tuple[str, str]]:
        """(app label, lower-case model name) of every model its operations name, state-only ones included."""
        named = set()
        for operation in flatten(self.migration.operations):
            if hasattr(operation, "model_name"):  # a field, index or constraint of a model
                names = [operation.model_name]
            elif isinstance(operation, migrations.RenameModel):
                names = [operation.old_name, operation.new_name]
            else:  # a model operation names its model; RunSQL and RunPython name none
                names = [getattr(operation, "name", None)]
            named.update((self.migration.app_label, name.lower()) for name in names if isinstance(name, str))
        return named

    @property
    def label(self) -> str:
        return f"{self.migration.app_label}.{self.migration.name}"

    @property
    def runs_python(self) -> bool:
        return any(PYTHON_OPERATION in statement for statement in self.statements)


def unapplied(executor: MigrationExecutor, app_label: str | None, migration_name: str | None) -> list[Step]:
    """The forward plan to the leaf migrations (or to ``app_label``'s ``migration_name``), each with its SQL.

    Raises CommandError (exit status 2), in ``migrate``'s words, for an unknown app or migration and for a plan
    that would unapply migrations (a rehearsal goes forwards only)."""
    loader = executor.loader
    if app_label is None:
        targets = loader.graph.leaf_nodes()
    elif app_label not in loader.migrated_apps:
        raise CommandError(f"App '{app_label}' does not have migrations.", returncode=2)
    elif migration_name is None:
        targets = [key for key in loader.graph.leaf_nodes() if key[0] == app_label]
    else:
        try:
            migration = loader.get_migration_by_prefix(app_label, migration_name)
        except AmbiguityError as error:
            raise CommandError(f"More than one migration matches '{migration_name}' in app '{app_label}'. "
                               "Please be more specific.", returncode=2) from error
        except KeyError as error:
            raise CommandError(f"Cannot find a migration matching '{migration_name}' from app '{app_label}'.",
                               returncode=2) from error
        targets = [(app_label, migration.name)]
    plan = executor.migration_plan(targets)
    backwards = [migration.name for migration, backward in plan if backward]
    if backwards:
        raise CommandError(f"Reaching that target would unapply {', '.join(backwards)}: a rehearsal only goes "
                           "forwards. Name a later migration, or rehearse on a database that has not applied them.",
                           returncode=2)
    tables = set(executor.connection.introspection.table_names())
    steps = []
    for migration, _ in plan:
        statements = loader.collect_sql([(migration, False)])
        steps.append(Step(migration, statements, {t for s in statements for t in tables_named(s, tables)}))
    return steps


def flatten(operations: list):
    """The operations, with those inside SeparateDatabaseAndState (state and database) in their place."""
    for operation in operations:
        if isinstance(operation, migrations.SeparateDatabaseAndState):
            yield from flatten(operation.state_operations)
            yield from flatten(operation.database_operations)
        else:
            yield operation


def tables_named(sql: str, tables: set[str]) -> set[str]:
    """The names in ``tables`` that ``sql`` mentions as identifiers."""
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_$]*", sql))
    return words & tables
