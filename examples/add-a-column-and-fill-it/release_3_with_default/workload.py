"""What release 3 does all day (as release 2): release 1's work, keeping loyalty points (a point per euro spent)."""

import random

from django.db.models import F
from django.db.models.functions import Floor

from .models import Customer


def sign_up():
    Customer.objects.create(name="Ada", spent_cents=0, loyalty_points=0)


def show_newest_customers():
    list(Customer.objects.order_by("-id")[:20])


def record_a_purchase():
    Customer.objects.filter(id=random.randrange(1, 1_000)).update(
        spent_cents=F("spent_cents") + 1_000, loyalty_points=Floor((F("spent_cents") + 1_000) / 100)
    )


OPERATIONS = [("write", sign_up), ("read", show_newest_customers), ("write", record_a_purchase)]
