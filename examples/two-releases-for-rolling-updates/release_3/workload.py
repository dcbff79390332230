"""What release 3 does all day: release 2's code, over a column that is NOT NULL now."""

import random

from .models import Product


def add_product():
    Product.objects.create(name="Teapot", weight_grams=random.randrange(100, 2_000))


def list_products():
    list(Product.objects.order_by("-id")[:20])


def rename_a_product():
    Product.objects.filter(id=random.randrange(1, 10_000)).update(name=f"Teapot {random.randrange(100)}")


OPERATIONS = [("write", add_product), ("read", list_products), ("write", rename_a_product)]
