"""Copy every product's code into sku, a range of ids at a time, while the site runs."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import F, Max, Min, Q

from ...models import Product

# Ids per batch: each batch is one short transaction, so a write to the same rows waits for it briefly.
BATCH_SIZE = 2_000
# Rows whose sku is not their code yet: never copied, or written by code that does not set both.
DIFFERENT = Q(sku__isnull=True) | Q(sku__lt=F("code")) | Q(sku__gt=F("code"))


class Command(BaseCommand):
    help = (
        "Copy code into the sku column release 2's migration added, wherever the two differ. One range of ids per "
        "transaction; stop it any time, run it again to resume. Run it once no instance of release 1 serves: "
        "release 1 writes code alone."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="ids per batch (default %(default)s)")

    def handle(self, *args, batch_size, **options):
        if batch_size < 1:
            raise CommandError(f"--batch-size must be at least 1, not {batch_size}.")
        bounds = Product.objects.filter(DIFFERENT).aggregate(first=Min("id"), last=Max("id"))
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
                copied += Product.objects.filter(DIFFERENT, id__range=(start, end)).update(sku=F("code"))
            self.stdout.write(f"ids {start:,}-{end:,} of {last:,} ({(end - first + 1) / (last - first + 1):.0%}): "
                              f"{copied:,} copied")
            self.stdout.flush()
            start = end + 1
        left = Product.objects.filter(DIFFERENT).count()
        if left:
            raise CommandError(f"{left:,} products still differ between code and sku, written while this ran: is an "
                               "instance of release 1 still serving? Run this command again once none is.")
        self.stdout.write(self.style.SUCCESS(f"Done: {copied:,} rows copied in {time.monotonic() - started:.1f} s."))
