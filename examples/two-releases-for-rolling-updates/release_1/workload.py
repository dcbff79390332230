"""What release 1 does all day: adds products without a weight, lists them, renames them."""

import random

from .models import Product


def add_product():
    Product.objects.create(name="Teapot")


def list_products():
    list(Product.objects.order_by("-id")[:20])


def rename_a_product():
    Product.objects.filter(id=random.randrange(1, 10_000)).update(name=f"Teapot {random.randrange(100)}")


OPERATIONS = [("write", add_product), ("read", list_products), ("write", rename_a_product)]
