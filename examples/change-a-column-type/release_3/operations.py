"""Operations for changing a column's type on PostgreSQL without a long lock, and Django's own change elsewhere.

The recipe's statements are PostgreSQL's (a trigger, an index built concurrently, a CHECK added NOT VALID); on
another engine :class:`RunSQLOnPostgreSQL` does nothing and :class:`AlterFieldElsewhere` makes the change as
``makemigrations`` wrote it. See guides/change-a-column-type.md.
"""

from django.db import NotSupportedError, migrations

from .timeouts import timeouts_lifted


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


class IndexColumnConcurrently(migrations.operations.base.Operation):
    """``CREATE INDEX CONCURRENTLY name ON table (column)`` on PostgreSQL, with no lock or statement timeout for the
    build; nothing elsewhere, nor in Django's state (the column is the recipe's own, unknown to the models yet).

    It can run again: an index a killed deploy finished (VALID, on that column) is kept; an INVALID one a failed build
    left is dropped, concurrently, and built anew. The migration must say ``atomic = False``."""

    reduces_to_sql = True
    reversible = True

    def __init__(self, table, column, name):
        self.table, self.column, self.name = table, column, name

    def deconstruct(self):
        return self.__class__.__name__, [], {"table": self.table, "column": self.column, "name": self.name}

    def describe(self):
        return f"Create index {self.name} on {self.table} ({self.column}), concurrently (PostgreSQL)"

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        if schema_editor.connection.in_atomic_block:
            raise NotSupportedError("CREATE INDEX CONCURRENTLY cannot run in a transaction: set atomic = False")
        qn = schema_editor.quote_name
        found = None if schema_editor.collect_sql else self._found(schema_editor)
        if found == "valid":
            return
        with timeouts_lifted(schema_editor):
            if found == "invalid":
                schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {qn(self.name)}")
            schema_editor.execute(f"CREATE INDEX CONCURRENTLY {qn(self.name)} ON {qn(self.table)} ({qn(self.column)})")

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(self.name)}")

    def _found(self, schema_editor):
        """None if there is no index of that name; "valid" if it is this one, built; "invalid" for what a failed
        build left (a failed build's index can be of any definition: it is dropped). An INVALID index that a build
        is still making (a killed deploy's, which the server goes on building) is refused, naming the build."""
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT indisvalid, indrelid = to_regclass(%s) AND NOT indisunique AND "
                "split_part(pg_get_indexdef(indexrelid), ' USING ', 2) = 'btree (' || quote_ident(%s) || ')', "
                # Another database's build can have the same index oid: only this database's counts.
                "(SELECT min(pid) FROM pg_stat_progress_create_index "
                " WHERE index_relid = indexrelid AND datname = current_database()) "
                "FROM pg_index WHERE indexrelid = to_regclass(%s)",
                [schema_editor.quote_name(self.table), self.column, schema_editor.quote_name(self.name)])
            found = cursor.fetchone()
        if found is None:
            return None
        if not found[0] and found[2] is not None:
            raise NotSupportedError(
                f'index "{self.name}" is INVALID and a build (pid {found[2]}) is still making it: wait for it to end, '
                "or cancel it (SELECT pg_cancel_backend(pid)), then migrate again")
        if not found[0]:
            return "invalid"
        if not found[1]:
            raise NotSupportedError(f'index "{self.name}" exists, but is not the index on {self.table} '
                                    f"({self.column}) this step builds: rename or drop it, then migrate again")
        return "valid"
