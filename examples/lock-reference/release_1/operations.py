"""Operations in their safe form on PostgreSQL, usable on every engine: the chain's migrations that are not plain
Django operations import them (the guide each migration names explains the form)."""

from django.db import NotSupportedError, migrations


class AddIndexConcurrentlyOnPostgreSQL(migrations.AddIndex):
    """CREATE INDEX CONCURRENTLY on PostgreSQL; Django's AddIndex on other engines.

    Built on AddIndex, not on django.contrib.postgres's AddIndexConcurrently,
    which imports psycopg: this module loads on any engine, driver or not.
    """

    def describe(self):
        return f"Create index {self.index.name} on {self.model_name}, concurrently on PostgreSQL"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        refuse_a_transaction(self, schema_editor)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.add_index(model, self.index, concurrently=True)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        refuse_a_transaction(self, schema_editor)
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, concurrently=True)


class RemoveIndexConcurrentlyOnPostgreSQL(migrations.RemoveIndex):
    """DROP INDEX CONCURRENTLY on PostgreSQL; Django's RemoveIndex on other engines.

    Built on RemoveIndex, not on django.contrib.postgres's RemoveIndexConcurrently,
    which imports psycopg: this module loads on any engine, driver or not.
    """

    def describe(self):
        return f"Remove index {self.name} from {self.model_name}, concurrently on PostgreSQL"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        refuse_a_transaction(self, schema_editor)
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            index = from_state.models[app_label, self.model_name_lower].get_index_by_name(self.name)
            schema_editor.remove_index(model, index, concurrently=True)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        refuse_a_transaction(self, schema_editor)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            index = to_state.models[app_label, self.model_name_lower].get_index_by_name(self.name)
            schema_editor.add_index(model, index, concurrently=True)


def refuse_a_transaction(operation, schema_editor):
    """What Django's AddIndexConcurrently does: PostgreSQL cannot build concurrently in a transaction."""
    if schema_editor.connection.in_atomic_block:
        raise NotSupportedError(
            f"The {type(operation).__name__} operation cannot be executed inside a transaction "
            "(set atomic = False on the migration)."
        )


class AddConstraintNotValidOnPostgreSQL(migrations.AddConstraint):
    """django.contrib.postgres's AddConstraintNotValid on PostgreSQL (a CHECK that skips the rows already there);
    Django's AddConstraint on other engines. Imported only on PostgreSQL: it needs the driver."""

    def describe(self):
        return f"Create constraint {self.constraint.name} on {self.model_name}, NOT VALID on PostgreSQL"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        from django.contrib.postgres.operations import AddConstraintNotValid

        AddConstraintNotValid(self.model_name, self.constraint).database_forwards(
            app_label, schema_editor, from_state, to_state)


class ValidateConstraintOnPostgreSQL(migrations.operations.base.Operation):
    """django.contrib.postgres's ValidateConstraint on PostgreSQL; nothing on other engines, nor in the state."""

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
    """On PostgreSQL, CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT … UNIQUE USING INDEX: the form of
    guides/add-a-constraint.md, without its checks for a run that failed. Django's AddConstraint elsewhere."""

    def describe(self):
        return f"Create constraint {self.constraint.name} on {self.model_name}, its index concurrently on PostgreSQL"

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        refuse_a_transaction(self, schema_editor)
        model = to_state.apps.get_model(app_label, self.model_name)
        qn = schema_editor.quote_name
        table, name = qn(model._meta.db_table), qn(self.constraint.name)
        columns = ", ".join(qn(model._meta.get_field(field).column) for field in self.constraint.fields)
        schema_editor.execute(f"CREATE UNIQUE INDEX CONCURRENTLY {name} ON {table} ({columns})")
        schema_editor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE USING INDEX {name}")


class RunSQLOnPostgreSQL(migrations.RunSQL):
    """Django's RunSQL on PostgreSQL; nothing on another engine (guides/change-a-column-type.md)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class AlterFieldElsewhere(migrations.AlterField):
    """Django's AlterField on every engine but PostgreSQL, where RunSQLOnPostgreSQL made the change."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class AddFieldElsewhere(migrations.AddField):
    """Django's AddField on every engine but PostgreSQL, where RunSQLOnPostgreSQL added the column alone."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
