"""What the shop does all day: counts a view of a product, adds products, lists the most viewed, looks one up."""

import functools
import random

from django.db.models import F, Max

from .models import Product


@functools.cache
def last_id() -> int:
    """The products were there before the site started: requests go to any of them."""
    return Product.objects.aggregate(last=Max("id"))["last"] or 1


def view_a_product():
    Product.objects.filter(id=random.randint(1, last_id())).update(views=F("views") + 1)


def add_a_product():
    Product.objects.create(name=f"Product {random.randrange(10**6)}")


def list_the_most_viewed():
    list(Product.objects.order_by("-views")[:10])


def look_up_a_product():
    Product.objects.filter(id=random.randint(1, last_id())).first()


OPERATIONS = [
    ("write", view_a_product),
    ("write", add_a_product),
    ("read", list_the_most_viewed),
    ("read", look_up_a_product),
]
