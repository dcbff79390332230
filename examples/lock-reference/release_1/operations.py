"""Index operations in their safe form on PostgreSQL, usable on every engine: the chain's migrations 0013 and 0014
import them (guides/add-index-concurrently.md explains the form)."""

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
