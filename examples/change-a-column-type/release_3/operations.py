"""Operations for changing a column's type on PostgreSQL without a long lock, and Django's own change elsewhere.

The recipe's statements are PostgreSQL's (a trigger, an index built concurrently, a CHECK added NOT VALID); on
another engine :class:`RunSQLOnPostgreSQL` does nothing and :class:`AlterFieldElsewhere` makes the change as
``makemigrations`` wrote it. See guides/change-a-column-type.md.
"""

from django.db import migrations


class RunSQLOnPostgreSQL(migrations.RunSQL):
    """Django's RunSQL on PostgreSQL; nothing on another engine."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class AlterFieldElsewhere(migrations.AlterField):
    """Django's AlterField on every engine but PostgreSQL, where the recipe's statements made the change."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
