"""What release 1 does all day: signs customers up, shows the newest, records purchases."""

import random

from django.db.models import F

from .models import Customer


def sign_up():
    Customer.objects.create(name="Ada", spent_cents=0)


def show_newest_customers():
    list(Customer.objects.order_by("-id")[:20])


def record_a_purchase():
    Customer.objects.filter(id=random.randrange(1, 1_000)).update(spent_cents=F("spent_cents") + 1_000)


OPERATIONS = [("write", sign_up), ("read", show_newest_customers), ("write", record_a_purchase)]
