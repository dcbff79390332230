"""Operations that add a CHECK and a UNIQUE constraint on PostgreSQL without a long lock; Django's own elsewhere.

On PostgreSQL each can run again after a failure. django.contrib.postgres is imported only on PostgreSQL: it needs
the PostgreSQL driver, which a site on another engine may not have. See guides/add-a-constraint.md.
"""

from contextlib import nullcontext

from django.db import NotSupportedError, ProgrammingError, migrations, transaction
from django.db.models import UniqueConstraint

from .timeouts import timeouts_lifted


class AddConstraintNotValidOnPostgreSQL(migrations.AddConstraint):
    """Django's AddConstraintNotValid on PostgreSQL: the CHECK holds for every row written from now on, and the rows
    already there wait for :class:`ValidateConstraintOnPostgreSQL`. Django's AddConstraint elsewhere, which checks
    them all at once."""

    def describe(self):
        return f"Create constraint {self.constraint.name} on {self.model_name}, NOT VALID on PostgreSQL"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        from django.contrib.postgres.operations import AddConstraintNotValid

        AddConstraintNotValid(self.model_name, self.constraint).database_forwards(
            app_label, schema_editor, from_state, to_state)


class ValidateConstraintOnPostgreSQL(migrations.operations.base.Operation):
    """Django's ValidateConstraint on PostgreSQL: checks the rows already there under a lock that lets reads and
    writes through; validating a valid constraint does nothing. Nothing elsewhere, nor in Django's state."""

    reduces_to_sql = True
    reversible = True

    def __init__(self, model_name, name):
        self.model_name, self.name = model_name, name

    def deconstruct(self):
        return self.__class__.__name__, [], {"model_name": self.model_name, "name": self.name}

    def describe(self):
        return f"Validate constraint {self.name} on {self.model_name} (PostgreSQL)"

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            from django.contrib.postgres.operations import ValidateConstraint

            ValidateConstraint(self.model_name, self.name).database_forwards(
                app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        pass


class AddUniqueConstraintConcurrently(migrations.AddConstraint):
    """On PostgreSQL, a unique index built concurrently, then made the constraint (``ADD CONSTRAINT … UNIQUE USING
    INDEX``): the schema Django's AddConstraint makes, without holding ACCESS EXCLUSIVE through the build. Django's
    AddConstraint elsewhere. The migration must say ``atomic = False``; a plain UniqueConstraint on fields only.

    The build runs with no lock, statement or transaction timeout, whatever the session sets: a timeout would cancel
    it and leave an INVALID index. The session's own timeouts, as they were, apply again to the ``ALTER TABLE``, which
    needs ACCESS EXCLUSIVE."""

    def describe(self):
        return f"Create constraint {self.constraint.name} on {self.model_name}, its index concurrently on PostgreSQL"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            # SQLite adds the constraint by rebuilding the table: in a non-atomic migration, each statement would
            # commit, and requests would meet no table between the DROP and the RENAME. (MariaDB commits each DDL
            # statement whatever is asked: Django opens no transaction there.)
            with transaction.atomic(using=connection.alias) if connection.features.can_rollback_ddl \
                    else nullcontext():
                return super().database_forwards(app_label, schema_editor, from_state, to_state)
        if connection.in_atomic_block:
            raise NotSupportedError("CREATE INDEX CONCURRENTLY cannot run in a transaction: set atomic = False")
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(connection.alias, model):
            return
        constraint = self.constraint
        if not isinstance(constraint, UniqueConstraint) or not constraint.fields or any(
                (constraint.condition, constraint.expressions, constraint.include, constraint.opclasses,
                 constraint.deferrable, constraint.nulls_distinct is not None)):
            raise NotSupportedError(f"{type(self).__name__} takes a UniqueConstraint on fields, with no other option")
        qn = schema_editor.quote_name
        table, name = qn(model._meta.db_table), qn(constraint.name)
        columns = [model._meta.get_field(field).column for field in constraint.fields]
        found = None if schema_editor.collect_sql else _found(schema_editor, model._meta.db_table, constraint.name,
                                                              columns)
        if found == "constraint":
            return
        if found is None:
            with timeouts_lifted(schema_editor):
                schema_editor.execute(f"CREATE UNIQUE INDEX CONCURRENTLY {name} ON {table} "
                                      f"({', '.join(qn(column) for column in columns)})")
        # Makes the index the constraint's own, under ACCESS EXCLUSIVE for a moment: no scan, no build.
        schema_editor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE USING INDEX {name}")


def _found(schema_editor, table, name, columns):
    """What a run before this one left: "constraint" if it finished, "index" if it built a valid index, None if
    nothing. An INVALID index (a build that failed, or still runs), or an index of that name that is not the one this
    operation builds, is refused, with what to do."""
    with schema_editor.connection.cursor() as cursor:
        # The definition as PostgreSQL prints it, from the access method on: a partial or expression index, another
        # collation, operator class, sort order or NULLS NOT DISTINCT all show there.
        cursor.execute(
            "SELECT i.indisvalid, i.indisready, i.indrelid = to_regclass(%s), c.conname IS NOT NULL, "
            "i.indisunique AND split_part(pg_get_indexdef(i.indexrelid), ' USING ', 2) = "
            "'btree (' || array_to_string(ARRAY(SELECT quote_ident(column_name) FROM unnest(%s::text[]) "
            "AS column_name), ', ') || ')' "
            "FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid AND c.contype = 'u' "
            "WHERE i.indexrelid = to_regclass(%s)",
            [schema_editor.quote_name(table), columns, schema_editor.quote_name(name)])
        row = cursor.fetchone()
    if row is None:
        return None
    valid, ready, on_table, constraint, same = row
    if not on_table or not same:
        raise ProgrammingError(f'index "{name}" exists, but is not UNIQUE ({", ".join(columns)}) on {table}: '
                               "rename or drop it, then migrate again")
    if not valid:
        # A build that failed after its index was marked ready leaves an index that writes still go through.
        refuses = " It refuses duplicate writes meanwhile." if ready else ""
        raise ProgrammingError(
            f'index "{name}" exists but is INVALID: a concurrent build failed (duplicates, a cancel) or is still '
            f"running.{refuses} Once no build runs (pg_stat_progress_create_index), drop it (DROP INDEX "
            "CONCURRENTLY), remove any duplicates, then migrate again.")
    return "constraint" if constraint else "index"
