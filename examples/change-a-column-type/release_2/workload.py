"""What the shop does all day: counts a view of a product, adds products, lists the most viewed, looks one up."""

import random

from django.db.models import F

from .models import Product


def view_a_product():
    Product.objects.filter(id=random.randrange(1, 1_000)).update(views=F("views") + 1)


def add_a_product():
    Product.objects.create(name=f"Product {random.randrange(10**6)}")


def list_the_most_viewed():
    list(Product.objects.order_by("-views")[:10])


def look_up_a_product():
    Product.objects.filter(id=random.randrange(1, 1_000)).first()


OPERATIONS = [
    ("write", view_a_product),
    ("write", add_a_product),
    ("read", list_the_most_viewed),
    ("read", look_up_a_product),
]
