"""What release 3 does all day, as release 2: takes orders, digital and bulk ones too, lists them, looks one up.

It relies on the loosened schema (NULL addresses, quantities over 10) and satisfies the rule release 3 will
enforce: a total is never negative.
"""

import random
import uuid

from .models import Order


def take_an_order():
    price, discount = random.randrange(500, 5_000), random.choice([0, 0, 0, 6_000])
    digital = random.random() < 0.25
    Order.objects.create(total_cents=max(0, price - discount), quantity=random.randint(1, 40),
                         shipping_address=None if digital else "1 Main Street", reference=uuid.uuid4().hex)


def list_recent_orders():
    list(Order.objects.order_by("-id")[:20])


def look_up_an_order():
    Order.objects.filter(id=random.randrange(1, 1_000)).first()


OPERATIONS = [
    ("write", take_an_order),
    ("read", list_recent_orders),
    ("read", look_up_an_order),
]
