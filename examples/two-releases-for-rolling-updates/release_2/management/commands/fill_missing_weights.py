"""Give every product without a weight the weight given, a range of ids at a time, while the site runs."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Max, Min

from ...models import Product

# Ids per batch: each batch is one short transaction, so a write to the same rows waits for it briefly.
BATCH_SIZE = 2_000


class Command(BaseCommand):
    help = (
        "Set weight_grams on every product that has none, before release 3 makes the column NOT NULL. One range of "
        "ids per transaction; stop it any time, run it again to resume. Run it once no instance of release 1 "
        "serves: release 1 adds products without a weight."
    )

    def add_arguments(self, parser):
        parser.add_argument("--grams", type=int, required=True,
                            help="the weight to give products that have none (where your data has no better one)")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="ids per batch (default %(default)s)")
        parser.add_argument("--pause", type=float, default=0.0,
                            help="seconds to wait between batches, to leave the database to the site (default 0)")

    def handle(self, *args, grams, batch_size, pause, **options):
        if batch_size < 1:
            raise CommandError(f"--batch-size must be at least 1, not {batch_size}.")
        if pause < 0:
            raise CommandError(f"--pause must not be negative, not {pause}.")
        if grams < 0:
            raise CommandError(f"--grams must not be negative, not {grams}.")
        missing = Product.objects.filter(weight_grams__isnull=True)
        bounds = missing.aggregate(first=Min("id"), last=Max("id"))
        first, last = bounds["first"], bounds["last"]
        if first is None:
            self.stdout.write(self.style.SUCCESS("Nothing to fill: every product has a weight."))
            return
        self.stdout.write(f"Filling ids {first:,} to {last:,}, {batch_size:,} ids per batch.")
        filled, start, started = 0, first, time.monotonic()
        while start <= last:
            end = min(start + batch_size - 1, last)
            with transaction.atomic():
                # Only rows still without a weight: a second run changes nothing.
                filled += missing.filter(id__range=(start, end)).update(weight_grams=grams)
            self.stdout.write(f"ids {start:,}-{end:,} of {last:,} ({(end - first + 1) / (last - first + 1):.0%}): "
                              f"{filled:,} filled")
            self.stdout.flush()
            start = end + 1
            if pause and start <= last:
                time.sleep(pause)
        left = missing.count()
        if left:
            raise CommandError(f"{left:,} products still have no weight, added while this ran: is an instance of "
                               "release 1 still serving? Run this command again once none is.")
        self.stdout.write(self.style.SUCCESS(f"Done: {filled:,} products filled in {time.monotonic() - started:.1f} s."))
