"""What release 2 does all day: release 1's work, plus a customer's order history (the new index serves it)."""

import random

from .models import Order


def place_order():
    Order.objects.create(customer_id=random.randrange(50_000), total_cents=random.randrange(100, 50_000))


def show_latest_orders():
    list(Order.objects.order_by("-id")[:10])


def ship_an_order():
    Order.objects.filter(id=random.randrange(1, 1_000)).update(status="shipped")


def show_customer_orders():
    list(Order.objects.filter(customer_id=random.randrange(50_000)).order_by("-id")[:20])


OPERATIONS = [
    ("write", place_order),
    ("read", show_latest_orders),
    ("write", ship_an_order),
    ("read", show_customer_orders),
]
