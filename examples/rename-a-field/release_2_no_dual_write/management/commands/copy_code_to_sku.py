"""Copy every product's code into sku, a range of ids at a time, while the site runs."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import CharField, F, Func, Max, Min, Q

from ...models import Product

# Ids per batch: each batch is one short transaction, so a write to the same rows waits for it briefly.
BATCH_SIZE = 2_000


def different() -> Q:
    """Rows whose sku is not their code yet, byte for byte: never copied, or written by code that does not set both."""
    code = F("code")
    if connection.vendor == "mysql":
        # MariaDB compares strings in the column's collation, which ignores case and trailing spaces by default:
        # 'A-1' would equal 'a-1 '. Compared as binary strings, they differ.
        code = Func(code, template="CAST(%(expressions)s AS BINARY)", output_field=CharField())
    return Q(sku__isnull=True) | Q(sku__lt=code) | Q(sku__gt=code)


class Command(BaseCommand):
    help = (
        "Copy code into the sku column release 2's migration added, wherever the two differ. One range of ids per "
        "transaction; stop it any time, run it again to resume. Run it once no instance of release 1 serves: "
        "release 1 writes code alone."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="ids per batch (default %(default)s)")
        parser.add_argument("--pause", type=float, default=0.0,
                            help="seconds to wait between batches, to leave the database to the site (default 0)")

    def handle(self, *args, batch_size, pause, **options):
        if batch_size < 1:
            raise CommandError(f"--batch-size must be at least 1, not {batch_size}.")
        if pause < 0:
            raise CommandError(f"--pause must not be negative, not {pause}.")
        bounds = Product.objects.filter(different()).aggregate(first=Min("id"), last=Max("id"))
        first, last = bounds["first"], bounds["last"]
        if first is None:
            self.stdout.write(self.style.SUCCESS("Nothing to copy: every product's sku equals its code."))
            return
        self.stdout.write(f"Copying ids {first:,} to {last:,}, {batch_size:,} ids per batch.")
        copied, start, started = 0, first, time.monotonic()
        while start <= last:
            end = min(start + batch_size - 1, last)
            with transaction.atomic():
                # Only rows that differ: a second run changes nothing.
                copied += Product.objects.filter(different(), id__range=(start, end)).update(sku=F("code"))
            self.stdout.write(f"ids {start:,}-{end:,} of {last:,} ({(end - first + 1) / (last - first + 1):.0%}): "
                              f"{copied:,} copied")
            self.stdout.flush()
            start = end + 1
            if pause and start <= last:
                time.sleep(pause)
        left = Product.objects.filter(different()).count()
        if left:
            raise CommandError(f"{left:,} products still differ between code and sku, written while this ran: is an "
                               "instance of release 1 still serving? Run this command again once none is.")
        self.stdout.write(self.style.SUCCESS(f"Done: {copied:,} rows copied in {time.monotonic() - started:.1f} s."))
