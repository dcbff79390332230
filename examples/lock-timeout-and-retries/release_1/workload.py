"""What release 1 does all day: takes orders, lists and looks them up, corrects totals; and looks up customers."""

import random

from .models import Customer, Order


def take_an_order():
    Order.objects.create(customer_id=random.randrange(1, 1_000), total_cents=random.randrange(500, 50_000))


def list_recent_orders():
    list(Order.objects.order_by("-id")[:20])


def correct_a_total():
    Order.objects.filter(id=random.randrange(1, 1_000)).update(total_cents=random.randrange(500, 50_000))


def look_up_an_order():
    Order.objects.filter(id=random.randrange(1, 1_000)).first()


OPERATIONS = [
    ("write", take_an_order),
    ("read", list_recent_orders),
    ("write", correct_a_total),
    ("read", look_up_an_order),
]


def look_up_a_customer():
    Customer.objects.filter(id=random.randrange(1, 1_000)).first()


def rename_a_customer():
    Customer.objects.filter(id=random.randrange(1, 1_000)).update(name=f"customer {random.randrange(1_000)}")


# The site's pages on a table no migration of this guide touches (lab.site_urls).
UNTOUCHED_OPERATIONS = [("read", look_up_a_customer), ("write", rename_a_customer)]
