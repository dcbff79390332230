"""Find, and drop, indexes that a failed CREATE INDEX CONCURRENTLY left INVALID; leave builds in progress alone."""

import re

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

# Each INVALID index on the tables, with the pid of a build in this database that may still be making it.
# A concurrent build reports its index's OID once the index exists; until then (index_relid = 0) it may be
# making any index of its table. Another role's build shows no table (relid NULL): it may be making any.
INVALID_INDEXES = """
SELECT index.relname, tab.relname, (
    SELECT min(build.pid) FROM pg_stat_progress_create_index build
    WHERE build.datname = current_database() AND (
        build.index_relid = index.oid OR (build.relid = tab.oid AND build.index_relid = 0) OR build.relid IS NULL
    )
)
FROM pg_index
JOIN pg_class index ON index.oid = pg_index.indexrelid
JOIN pg_class tab ON tab.oid = pg_index.indrelid
WHERE NOT pg_index.indisvalid AND tab.relname = ANY(%s) AND pg_table_is_visible(tab.oid)
ORDER BY index.relname
"""
# The names REINDEX CONCURRENTLY gives its new copy of an index, and the old one it swaps out.
REINDEX_COPY = re.compile(r"_cc(new|old)\d*$")


class Command(BaseCommand):
    help = (
        "Drop the INVALID indexes that failed concurrent builds left on this app's tables, so that the "
        "migration can run again; leave alone builds still running. With --check, only list them."
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
            failed = []
            for index, table, pid in invalid:
                reason = self.reason_to_leave(index, pid)
                self.stdout.write(f"INVALID index {index} on {table}: {reason or 'a failed build, not running'}")
                if reason is None:
                    failed.append(index)
            if check:
                if invalid:
                    raise CommandError(f"{len(invalid)} invalid index(es), {len(failed)} of them failed builds "
                                       "that this command drops when run without --check.")
                self.stdout.write("No invalid indexes.")
                return
            for index in failed:
                # Concurrently, so that dropping it does not block writes either.
                cursor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {connection.ops.quote_name(index)}")
                self.stdout.write(f"Dropped {index}.")
        self.stdout.write(f"{len(failed)} invalid index(es) dropped, {len(invalid) - len(failed)} left alone.")
        if failed:
            self.stdout.write("Now run: python manage.py migrate")

    def reason_to_leave(self, index, pid):
        """Why this command leaves an invalid index alone, or None if it drops it."""
        if pid is not None:
            # Dropping it would wait for the build to end, then drop what it made, however it ended.
            return (f"still being built by pid {pid}: left alone; "
                    f"wait for it or cancel it with pg_cancel_backend({pid})")
        if REINDEX_COPY.search(index):
            return ("made by REINDEX CONCURRENTLY, not by a migration: left alone. If no REINDEX is running, "
                    "drop a _ccnew index and run the REINDEX again; drop a _ccold one (the rebuild succeeded)")
        return None
