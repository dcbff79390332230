"""Set the negative totals release 1 wrote to zero, a range of ids at a time, while the site runs."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Max

from ...models import Order

# Ids per batch: each batch is a short transaction, so writes to the same rows wait for it briefly, if at all.
BATCH_SIZE = 5_000


class Command(BaseCommand):
    help = (
        "Set every negative total_cents to 0, as release 2 computes totals, so that the CHECK release 3 adds holds "
        "for the rows already there. One range of ids per transaction; stop it any time, run it again to resume."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="ids per batch (default %(default)s)")

    def handle(self, *args, batch_size, **options):
        if batch_size < 1:
            raise CommandError(f"--batch-size must be at least 1, not {batch_size}.")
        negative = Order.objects.filter(total_cents__lt=0)
        first = negative.order_by("id").values_list("id", flat=True).first()
        if first is None:
            self.stdout.write(self.style.SUCCESS("Nothing to fix: no order has a negative total."))
            return
        # Release 2 writes no negative total: rows added after this point need no fixing.
        last = Order.objects.aggregate(last=Max("id"))["last"]
        self.stdout.write(f"Fixing ids {first:,} to {last:,}, {batch_size:,} ids per batch.")
        fixed, start, started = 0, first, time.monotonic()
        while start <= last:
            end = min(start + batch_size - 1, last)
            # Only rows still negative: a second run changes nothing.
            fixed += negative.filter(id__gte=start, id__lte=end).update(total_cents=0)
            self.stdout.write(f"ids {start:,}-{end:,} of {last:,} ({(end - first + 1) / (last - first + 1):.0%}): "
                              f"{fixed:,} fixed")
            self.stdout.flush()
            start = end + 1
        # A release 1 instance still serving writes new negative totals, past ``last`` or over rows fixed already.
        left = negative.count()
        if left:
            raise CommandError(f"{left:,} orders still have a negative total, written while this ran: is release 1 "
                               "still serving somewhere? Run this command again once it is gone.")
        self.stdout.write(self.style.SUCCESS(f"Done: {fixed:,} totals set to 0 in {time.monotonic() - started:.1f} s."))
