"""Operations that add a foreign key on PostgreSQL without a long lock on either table; Django's own elsewhere.

Each step can run again after a failure: what a step already did is found and kept. See
guides/add-a-foreign-key.md.
"""

from django.db import NotSupportedError, ProgrammingError, migrations
from django.db.models import NOT_PROVIDED

from .timeouts import timeouts_lifted


class AddForeignKeyColumn(migrations.AddField):
    """On PostgreSQL, the column alone: no constraint, no index (the next migrations add them). Django's AddField
    elsewhere. Django's state gets the whole foreign key, as AddField gives it. Only a nullable field without a
    default: the column this adds is nullable and empty."""

    def describe(self):
        return f"Add field {self.name} to {self.model_name}: on PostgreSQL the column alone"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        field = model._meta.get_field(self.name)
        if not field.null or field.has_default() or field.db_default is not NOT_PROVIDED:
            raise NotSupportedError(f"{type(self).__name__} adds a nullable column without a default only")
        column_type = field.db_parameters(connection=schema_editor.connection)["type"]
        qn = schema_editor.quote_name
        if not schema_editor.collect_sql:
            _refuse_another_column(schema_editor, model._meta.db_table, field.column, column_type)
        schema_editor.execute(
            f"ALTER TABLE {qn(model._meta.db_table)} ADD COLUMN IF NOT EXISTS {qn(field.column)} {column_type} NULL"
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        model = from_state.apps.get_model(app_label, self.model_name)
        field = model._meta.get_field(self.name)
        qn = schema_editor.quote_name
        schema_editor.execute(f"ALTER TABLE {qn(model._meta.db_table)} DROP COLUMN IF EXISTS {qn(field.column)}")


def _refuse_another_column(schema_editor, table, column, column_type):
    """A column of that name left by a run that died is kept only if it is this one: nullable, of this type. Any other
    (an earlier attempt's, another type) is refused, with what to do: IF NOT EXISTS alone would keep it."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT format_type(atttypid, atttypmod), attnotnull, atttypid = %s::regtype "
                       "FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = %s AND NOT attisdropped",
                       [column_type, schema_editor.quote_name(table), column])
        found = cursor.fetchone()
    if found and (not found[2] or found[1]):
        raise ProgrammingError(f'column "{column}" of {table} exists already as {found[0]}'
                               f"{' NOT NULL' if found[1] else ''}, not as the nullable {column_type} this step "
                               "adds: rename or drop it, then migrate again.")


class AddIndexConcurrentlyOnPostgreSQL(migrations.AddIndex):
    """CREATE INDEX CONCURRENTLY on PostgreSQL, with no lock or statement timeout for the build (kept if a run that
    died built it); Django's AddIndex elsewhere. The migration must say ``atomic = False``. A plain index on fields."""

    def describe(self):
        return f"Create index {self.index.name} on {self.model_name}, concurrently on PostgreSQL"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        if schema_editor.connection.in_atomic_block:
            raise NotSupportedError("CREATE INDEX CONCURRENTLY cannot run in a transaction: set atomic = False")
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if not schema_editor.collect_sql and _index_state(schema_editor, model, self.index) == "valid":
            return
        with timeouts_lifted(schema_editor):
            schema_editor.add_index(model, self.index, concurrently=True)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        model = from_state.apps.get_model(app_label, self.model_name)
        schema_editor.remove_index(model, self.index, concurrently=True)


def _index_state(schema_editor, model, index):
    """None if the table has no such index, "valid" if it has this one; an INVALID one (a failed or running build) is
    refused, and so is an index of that name on another table or of another definition."""
    if index.condition or index.expressions or index.include or index.opclasses or index.db_tablespace:
        raise NotSupportedError(f"{index.name}: a plain index on fields only")
    columns = [model._meta.get_field(field.lstrip("-")).column for field in index.fields]
    orders = [" DESC" if field.startswith("-") else "" for field in index.fields]
    qn = schema_editor.quote_name
    with schema_editor.connection.cursor() as cursor:
        # The definition as PostgreSQL prints it from the access method on: another column, order, predicate or a
        # UNIQUE index all differ there.
        cursor.execute(
            "SELECT indisvalid, indrelid = to_regclass(%s), NOT indisunique AND "
            "split_part(pg_get_indexdef(indexrelid), ' USING ', 2) = 'btree (' || array_to_string(ARRAY("
            "SELECT quote_ident(c) || o FROM unnest(%s::text[], %s::text[]) AS t(c, o)), ', ') || ')' "
            "FROM pg_index WHERE indexrelid = to_regclass(%s)",
            [qn(model._meta.db_table), columns, orders, qn(index.name)])
        found = cursor.fetchone()
    if found and not found[1]:
        raise ProgrammingError(f'index "{index.name}" exists on another table')
    if found and not found[0]:
        raise ProgrammingError(f'index "{index.name}" exists but is INVALID: a concurrent build failed or is still '
                               "running. Drop it (DROP INDEX CONCURRENTLY) once no build runs, then migrate again.")
    if found and not found[2]:
        raise ProgrammingError(f'index "{index.name}" exists, but is not the index on ({", ".join(index.fields)}) '
                               "this step builds: rename or drop it, then migrate again.")
    return "valid" if found else None


class _ForeignKeyStep(migrations.operations.base.Operation):
    """A step on the foreign key constraint of ``model_name.name``, on PostgreSQL only; no change to the state."""

    reduces_to_sql = True
    reversible = True

    def __init__(self, model_name, name, constraint):
        self.model_name, self.name, self.constraint = model_name, name, constraint

    def deconstruct(self):
        return self.__class__.__name__, [], {"model_name": self.model_name, "name": self.name,
                                             "constraint": self.constraint}

    def state_forwards(self, app_label, state):
        pass

    def _parts(self, app_label, schema_editor, state):
        model = state.apps.get_model(app_label, self.model_name)
        field = model._meta.get_field(self.name)
        qn = schema_editor.quote_name
        target = field.remote_field.model._meta
        return (qn(model._meta.db_table), qn(field.column), qn(target.db_table),
                qn(target.get_field(field.remote_field.field_name).column), qn(self.constraint))

    def _exists(self, schema_editor, table):
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass(%s) AND conname = %s",
                           [table, self.constraint])
            return cursor.fetchone() is not None


class AddForeignKeyNotValid(_ForeignKeyStep):
    """ADD CONSTRAINT … FOREIGN KEY … NOT VALID on PostgreSQL: checks new and changed rows only, so it locks both
    tables for a moment, not for a scan. Kept if it is there already. Nothing elsewhere."""

    def describe(self):
        return f"Add foreign key {self.constraint} NOT VALID (PostgreSQL)"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        table, column, target, target_column, name = self._parts(app_label, schema_editor, to_state)
        if not schema_editor.collect_sql and self._exists(schema_editor, table):
            return
        # DEFERRABLE INITIALLY DEFERRED, as Django makes its own foreign keys on PostgreSQL.
        schema_editor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({column}) "
                              f"REFERENCES {target} ({target_column}) DEFERRABLE INITIALLY DEFERRED NOT VALID")

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            table, *_, name = self._parts(app_label, schema_editor, from_state)
            schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")


class ValidateForeignKey(_ForeignKeyStep):
    """VALIDATE CONSTRAINT on PostgreSQL: scans the rows already there under a lock that lets reads and writes
    through. Validating a valid constraint does nothing, so it can run again. Nothing elsewhere."""

    def describe(self):
        return f"Validate foreign key {self.constraint} (PostgreSQL)"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            table, *_, name = self._parts(app_label, schema_editor, to_state)
            schema_editor.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}")

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        pass
