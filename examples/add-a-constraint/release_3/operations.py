"""Operations that add a CHECK and a UNIQUE constraint on PostgreSQL without a long lock; Django's own elsewhere.

On PostgreSQL each can run again after a failure. See guides/add-a-constraint.md.
"""

from contextlib import nullcontext

from django.contrib.postgres.operations import AddConstraintNotValid, ValidateConstraint
from django.db import NotSupportedError, ProgrammingError, migrations, transaction
from django.db.models import UniqueConstraint


class AddConstraintNotValidOnPostgreSQL(AddConstraintNotValid):
    """Django's AddConstraintNotValid on PostgreSQL: the CHECK holds for every row written from now on, and the rows
    already there wait for :class:`ValidateConstraintOnPostgreSQL`. Django's AddConstraint elsewhere, which checks
    them all at once."""

    def describe(self):
        return f"Create constraint {self.constraint.name} on {self.model_name}, NOT VALID on PostgreSQL"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddConstraint.database_forwards(self, app_label, schema_editor, from_state, to_state)


class ValidateConstraintOnPostgreSQL(ValidateConstraint):
    """Django's ValidateConstraint on PostgreSQL: checks the rows already there under a lock that lets reads and
    writes through; validating a valid constraint does nothing. Nothing elsewhere."""

    def describe(self):
        return f"Validate constraint {self.name} on {self.model_name} (PostgreSQL)"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)


class AddUniqueConstraintConcurrently(migrations.AddConstraint):
    """On PostgreSQL, a unique index built concurrently, then made the constraint (``ADD CONSTRAINT … UNIQUE USING
    INDEX``): the schema Django's AddConstraint makes, without holding ACCESS EXCLUSIVE through the build. Django's
    AddConstraint elsewhere. The migration must say ``atomic = False``; a plain UniqueConstraint on fields only."""

    def describe(self):
        return f"Create constraint {self.constraint.name} on {self.model_name}, its index concurrently on PostgreSQL"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            # SQLite adds the constraint by rebuilding the table: in a non-atomic migration, each statement would
            # commit, and requests would meet no table between the DROP and the RENAME. (MariaDB commits each DDL
            # statement whatever is asked, and Django refuses DDL in a transaction there.)
            connection = schema_editor.connection
            with transaction.atomic(using=connection.alias) if connection.features.can_rollback_ddl \
                    else nullcontext():
                return super().database_forwards(app_label, schema_editor, from_state, to_state)
        if schema_editor.connection.in_atomic_block:
            raise NotSupportedError("CREATE INDEX CONCURRENTLY cannot run in a transaction: set atomic = False")
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        constraint = self.constraint
        if not isinstance(constraint, UniqueConstraint) or not constraint.fields or any(
                (constraint.condition, constraint.expressions, constraint.include, constraint.opclasses,
                 constraint.deferrable, constraint.nulls_distinct is not None)):
            raise NotSupportedError(f"{type(self).__name__} takes a UniqueConstraint on fields, with no other option")
        qn = schema_editor.quote_name
        table, name = qn(model._meta.db_table), qn(constraint.name)
        columns = ", ".join(qn(model._meta.get_field(field).column) for field in constraint.fields)
        found = None if schema_editor.collect_sql else _found(schema_editor, model._meta.db_table, constraint.name)
        if found == "constraint":
            return
        if found is None:
            schema_editor.execute(f"CREATE UNIQUE INDEX CONCURRENTLY {name} ON {table} ({columns})")
        # Makes the index the constraint's own, under ACCESS EXCLUSIVE for a moment: no scan, no build.
        schema_editor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE USING INDEX {name}")


def _found(schema_editor, table, name):
    """What a run before this one left: "constraint" if it finished, "index" if it built a valid index, None if
    nothing. An INVALID index (a build that failed or still runs) is refused, with what to do."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT i.indisvalid, i.indisready, i.indrelid = to_regclass(%s), c.conname IS NOT NULL FROM pg_index i "
                       "LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.contype = 'u' "
                       "WHERE i.indexrelid = to_regclass(%s)",
                       [schema_editor.quote_name(table), schema_editor.quote_name(name)])
        row = cursor.fetchone()
    if row is None:
        return None
    valid, ready, on_table, constraint = row
    if not on_table:
        raise ProgrammingError(f'index "{name}" exists on another table')
    if not valid:
        # A build that failed after its index was marked ready leaves an index that writes still go through.
        refuses = " It refuses duplicate writes meanwhile." if ready else ""
        raise ProgrammingError(
            f'index "{name}" exists but is INVALID: a concurrent build failed (on duplicates?) or is still '
            f"running.{refuses} Once no build runs, drop it (DROP INDEX CONCURRENTLY), remove the duplicates, then "
            "migrate again.")
    return "constraint" if constraint else "index"
