"""What release 1 does all day: takes orders, shows the latest, marks some shipped."""

import random

from .models import Order


def place_order():
    Order.objects.create(customer_id=random.randrange(50_000), total_cents=random.randrange(100, 50_000))


def show_latest_orders():
    list(Order.objects.order_by("-id")[:10])


def ship_an_order():
    Order.objects.filter(id=random.randrange(1, 1_000)).update(status="shipped")


OPERATIONS = [("write", place_order), ("read", show_latest_orders), ("write", ship_an_order)]
