"""SetNotNullWithoutLongLock: makes a nullable column NOT NULL on PostgreSQL in steps that never hold a long lock.
See guides/add-a-column-and-fill-it.md ("Make it NOT NULL, in short steps")."""

from contextlib import nullcontext

from django.db import migrations, models, transaction
from django.db.backends.utils import truncate_name


class SetNotNullWithoutLongLock(migrations.AlterField):
    """Make a nullable column NOT NULL: on PostgreSQL in short-locking steps, each skipped when a failed run
    already did it; Django's AlterField on other engines. Any other change to the field is refused."""

    UNSET = object()  # an argument the field does not set

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        old = from_state.apps.get_model(app_label, self.model_name)._meta.get_field(self.name)
        new = model._meta.get_field(self.name)
        self.refuse_other_changes(app_label, old, new)
        if schema_editor.connection.vendor != "postgresql":
            return self.as_django_does(app_label, schema_editor, from_state, to_state)
        # PostgreSQL cuts names at 63 bytes; a name cut the same way here is one the re-run finds again. Not
        # <table>_<column>_not_null: PostgreSQL 18 gives that name to the NOT NULL constraint SET NOT NULL makes.
        check_name = truncate_name(f"{model._meta.db_table}_{self.name}_not_null_check",
                                   schema_editor.connection.ops.max_name_length())
        names = model._meta.db_table, new.column, check_name
        table, column, check = map(schema_editor.quote_name, names)
        # A failed run leaves the steps before the failure done (atomic = False): skip them. sqlmigrate has no
        # table to look at, so it shows every step.
        not_null, validated = (False, None) if schema_editor.collect_sql else self.progress(schema_editor, *names)
        if not not_null and validated is None:
            # A brief ACCESS EXCLUSIVE lock. NOT VALID skips the rows already there; every insert and update
            # from now on is checked.
            schema_editor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {check} CHECK ({column} IS NOT NULL) NOT VALID")
        if not not_null and not validated:
            # The scan, under a SHARE UPDATE EXCLUSIVE lock: reads and writes go on.
            schema_editor.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {check}")
        if not not_null:
            # Brief again: the valid constraint proves there is no NULL, so no scan.
            schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL")
        schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {check}")

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        # AlterField reverses by running forwards between the swapped states; DROP NOT NULL is quick as it is.
        self.as_django_does(app_label, schema_editor, from_state, to_state)

    def as_django_does(self, app_label, schema_editor, from_state, to_state):
        """Django's AlterField. On SQLite in one transaction: it rebuilds the table, and run in pieces
        (atomic = False), requests would find the table missing for a moment."""
        atomic = schema_editor.connection.vendor == "sqlite"
        with transaction.atomic(using=schema_editor.connection.alias) if atomic else nullcontext():
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def refuse_other_changes(self, app_label, old, new):
        """Raise ValueError if this AlterField changes anything but null=True to null=False."""
        (_, old_path, old_args, old_kwargs), (_, new_path, new_args, new_kwargs) = old.deconstruct(), new.deconstruct()
        # The steps below only add NOT NULL; anything else in this AlterField would be silently skipped.
        changed = [f"the type ({old_path} to {new_path})"] if (old_path, old_args) != (new_path, new_args) else []
        changed += [
            f"{key} ({self.shown(old_kwargs, key)} to {self.shown(new_kwargs, key)})"
            for key in sorted(old_kwargs.keys() | new_kwargs.keys())
            if key != "null" and old_kwargs.get(key, self.UNSET) != new_kwargs.get(key, self.UNSET)
        ]
        if not self.preserve_default:
            changed.append("a one-off default for the empty rows (fill them before this migration instead)")
        if not old.null or new.null:
            changed.append(f"null={old.null} to null={new.null} (it only goes from null=True to null=False)")
        if changed:
            raise ValueError(
                f"{type(self).__name__} on {app_label}.{self.model_name}.{self.name} only makes the column NOT NULL, "
                f"but this AlterField also changes: {'; '.join(changed)}. Put that change in an AlterField of its own."
            )

    @staticmethod
    def shown(kwargs, key):
        return repr(kwargs[key]) if key in kwargs else "unset"

    @staticmethod
    def progress(schema_editor, table, column, check):
        """Whether the column is NOT NULL already, and whether the CHECK constraint is validated (None: absent)."""
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                "SELECT a.attnotnull, c.convalidated FROM pg_attribute a "
                "LEFT JOIN pg_constraint c ON c.conrelid = a.attrelid AND c.conname = %s "
                "WHERE a.attrelid = %s::regclass AND a.attname = %s",
                [check, schema_editor.quote_name(table), column],
            )
            return cursor.fetchone()
