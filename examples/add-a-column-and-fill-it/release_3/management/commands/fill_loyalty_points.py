"""Fill loyalty_points for existing customers, in small batches, while the site runs."""

import time

from django.core.management.base import BaseCommand
from django.db.models import F

from ...models import Customer


class Command(BaseCommand):
    help = (
        "Set loyalty_points (a point per euro spent) on customers that have none, in batches by primary key. "
        "Each batch is its own transaction, so the site keeps writing. Stop it any time; run it again to resume."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1_000, help="rows per batch (default 1000)")
        parser.add_argument("--pause", type=float, default=0.0, help="seconds to sleep between batches")

    def handle(self, *args, batch_size, pause, **options):
        to_fill = Customer.objects.filter(loyalty_points__isnull=True)
        total = to_fill.count()
        self.stdout.write(f"{total:,} customers to fill, {batch_size:,} per batch.")
        filled, last_id, started = 0, 0, time.monotonic()
        while True:
            # Walk the primary key: each batch is a short index range scan, never the whole table.
            ids = list(to_fill.filter(id__gt=last_id).order_by("id").values_list("id", flat=True)[:batch_size])
            if not ids:
                break
            # Only rows still empty: a row the site filled meanwhile keeps its value.
            filled += to_fill.filter(id__in=ids).update(loyalty_points=F("spent_cents") / 100)
            last_id = ids[-1]
            rate = filled / max(time.monotonic() - started, 1e-9)
            self.stdout.write(f"filled {filled:,}/{total:,} up to id {last_id} ({rate:,.0f} rows/s)", ending="\n")
            self.stdout.flush()
            time.sleep(pause)
        self.stdout.write(self.style.SUCCESS(f"Done: {filled:,} customers filled."))
