"""What release 1 does all day: takes orders, lists them, looks one up.

Its bug: a discount larger than the price makes a negative total, about one order in four.
"""

import random
import uuid

from .models import Order


def take_an_order():
    price, discount = random.randrange(500, 5_000), random.choice([0, 0, 0, 6_000])
    Order.objects.create(total_cents=price - discount, quantity=random.randint(1, 10),
                         shipping_address="1 Main Street", reference=uuid.uuid4().hex)


def list_recent_orders():
    list(Order.objects.order_by("-id")[:20])


def look_up_an_order():
    Order.objects.filter(id=random.randrange(1, 1_000)).first()


OPERATIONS = [
    ("write", take_an_order),
    ("read", list_recent_orders),
    ("read", look_up_an_order),
]
