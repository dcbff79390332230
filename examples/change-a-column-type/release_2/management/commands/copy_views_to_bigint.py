"""Copy every product's views into views_bigint, a range of ids at a time, while the site runs (PostgreSQL)."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

# Ids per batch: each batch is one short transaction, so a view counted on the same rows waits for it briefly.
BATCH_SIZE = 5_000
TABLE = "shop_product"


class Command(BaseCommand):
    help = (
        "Copy views into the views_bigint column release 2's migration added, wherever the two differ: rows written "
        "before the migration, or round its trigger, which keeps every other row equal. One range of ids per "
        "transaction; stop it any time, run it again to resume. PostgreSQL only: elsewhere release 3's migration "
        "changes the column's type itself."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="ids per batch (default %(default)s)")

    def handle(self, *args, batch_size, **options):
        if batch_size < 1:
            raise CommandError(f"--batch-size must be at least 1, not {batch_size}.")
        if connection.vendor != "postgresql":
            self.stdout.write(f"Nothing to copy on {connection.display_name}: release 3's migration changes the "
                              "column's type there.")
            return
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT min("id"), max("id") FROM "{TABLE}" WHERE "views_bigint" IS DISTINCT FROM "views"')
            first, last = cursor.fetchone()
        if first is None:
            self.stdout.write(self.style.SUCCESS("Nothing to copy: every product's views_bigint equals its views."))
            return
        self.stdout.write(f"Copying ids {first:,} to {last:,}, {batch_size:,} ids per batch.")
        copied, start, started = 0, first, time.monotonic()
        while start <= last:
            end = min(start + batch_size - 1, last)
            with transaction.atomic(), connection.cursor() as cursor:
                # Only rows not copied yet, or written round the trigger: a second run changes nothing.
                cursor.execute(f'UPDATE "{TABLE}" SET "views_bigint" = "views" '
                               'WHERE "id" BETWEEN %s AND %s AND "views_bigint" IS DISTINCT FROM "views"', [start, end])
                copied += cursor.rowcount
            self.stdout.write(f"ids {start:,}-{end:,} of {last:,} ({(end - first + 1) / (last - first + 1):.0%}): "
                              f"{copied:,} copied")
            self.stdout.flush()
            start = end + 1
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT count(*) FROM "{TABLE}" WHERE "views_bigint" IS DISTINCT FROM "views"')
            left = cursor.fetchone()[0]
        if left:
            raise CommandError(f"{left:,} products still differ between views and views_bigint, written while this "
                               "ran: is the trigger of migration 0002 missing? Create it again as 0002 does, then run "
                               "this command again.")
        # Every row copied left a dead version behind. Autovacuum would come for them soon, and its lock would make
        # the next step's ALTER TABLE wait, and the site behind it: vacuum now, while nothing else needs the table.
        self.stdout.write("Vacuuming the table: the copy left a dead version of every row it changed.")
        with connection.cursor() as cursor:
            cursor.execute(f'VACUUM (ANALYZE) "{TABLE}"')
        self.stdout.write(self.style.SUCCESS(f"Done: {copied:,} rows copied in {time.monotonic() - started:.1f} s."))
