"""Copy code into sku for the products that still lack one, a range of ids at a time, while the site runs.

The copy a reader might write first: it fills the rows whose sku is still NULL. A product whose code the old release
changed after its sku was set keeps the stale sku, and nothing reports it.
"""

import time

from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import F, Max, Min

from ...models import Product

BATCH_SIZE = 2_000


class Command(BaseCommand):
    help = "Copy code into sku where sku is still NULL, one range of ids per transaction."

    def handle(self, *args, **options):
        missing = Product.objects.filter(sku__isnull=True)
        bounds = missing.aggregate(first=Min("id"), last=Max("id"))
        first, last = bounds["first"], bounds["last"]
        if first is None:
            self.stdout.write(self.style.SUCCESS("Nothing to copy: every product has a sku."))
            return
        copied, start, started = 0, first, time.monotonic()
        while start <= last:
            end = min(start + BATCH_SIZE - 1, last)
            with transaction.atomic():
                copied += Product.objects.filter(sku__isnull=True, id__range=(start, end)).update(sku=F("code"))
            start = end + 1
        self.stdout.write(self.style.SUCCESS(f"Done: {copied:,} rows copied in {time.monotonic() - started:.1f} s."))
