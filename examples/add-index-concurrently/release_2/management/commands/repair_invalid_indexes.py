"""Find, and drop, indexes that a failed CREATE INDEX CONCURRENTLY left INVALID."""

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

INVALID_INDEXES = """
SELECT index.relname, tab.relname
FROM pg_index
JOIN pg_class index ON index.oid = pg_index.indexrelid
JOIN pg_class tab ON tab.oid = pg_index.indrelid
WHERE NOT pg_index.indisvalid AND tab.relname = ANY(%s) AND pg_table_is_visible(tab.oid)
ORDER BY index.relname
"""


class Command(BaseCommand):
    help = (
        "Drop the INVALID indexes a failed concurrent build left on this app's tables, "
        "so that the migration can be run again. With --check, only list them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="list invalid indexes; exit 1 if there are any")

    def handle(self, *args, check=False, **options):
        if connection.vendor != "postgresql":
            self.stdout.write("Only PostgreSQL builds indexes concurrently: nothing to repair.")
            return
        tables = [model._meta.db_table for model in apps.get_containing_app_config(__name__).get_models()]
        with connection.cursor() as cursor:
            cursor.execute(INVALID_INDEXES, [tables])
            invalid = cursor.fetchall()
            for index, table in invalid:
                self.stdout.write(f"INVALID index {index} on {table}")
            if check:
                if invalid:
                    raise CommandError(f"{len(invalid)} invalid index(es): run this command without --check.")
                self.stdout.write("No invalid indexes.")
                return
            for index, _table in invalid:
                # Concurrently, so that dropping it does not block writes either.
                cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {connection.ops.quote_name(index)}")
                self.stdout.write(f"Dropped {index}.")
        self.stdout.write(f"{len(invalid)} invalid index(es) dropped. Now run: manage.py migrate")
