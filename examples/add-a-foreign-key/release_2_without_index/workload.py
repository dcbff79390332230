"""What release 2 does all day: takes orders, lists them, signs customers up, renames them."""

import random

from .models import Customer, Order


def take_an_order():
    Order.objects.create(total_cents=random.randrange(500, 50_000))


def list_recent_orders():
    list(Order.objects.order_by("-id")[:20])


def sign_up_a_customer():
    Customer.objects.create(name="Ada")


def rename_a_customer():
    Customer.objects.filter(id=random.randrange(1, 1_000)).update(name="Grace")


def look_up_a_customer():
    Customer.objects.filter(id=random.randrange(1, 1_000)).first()


OPERATIONS = [
    ("write", take_an_order),
    ("read", list_recent_orders),
    ("write", sign_up_a_customer),
    ("read", look_up_a_customer),
    ("write", rename_a_customer),
]
