"""What release 2 does all day: release 1's work, and a note on products."""

import random

from .models import Product


def add_product():
    Product.objects.create(name="Teapot", code=f"T-{random.randrange(10_000)}", note="Handle with care")


def list_products():
    list(Product.objects.order_by("-id")[:20])


def annotate_a_product():
    Product.objects.filter(id=random.randrange(1, 10_000)).update(note=f"Restocked {random.randrange(100)}")


OPERATIONS = [("write", add_product), ("read", list_products), ("write", annotate_a_product)]
