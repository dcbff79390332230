"""Release 3 of the expand and contract: reads ``sku``, still writes both columns."""

import random

from .models import Coupon, Product


def add_product():
    sku = f"T-{random.randrange(10_000)}"
    Product.objects.create(name="Teapot", code=sku, sku=sku)


def list_products():
    list(Product.objects.order_by("-id").values_list("name", "sku")[:20])


def find_by_sku():
    list(Product.objects.filter(sku=f"C-{random.randrange(10_000)}")[:1])


def change_a_sku():
    sku = f"C-{random.randrange(10_000)}"
    Product.objects.filter(id=random.randrange(1, 10_000)).update(code=sku, sku=sku)


def hand_out_a_coupon():
    Coupon.objects.create(code="WELCOME", percent_off=10)


OPERATIONS = [
    ("write", add_product),
    ("read", list_products),
    ("write", change_a_sku),
    ("read", find_by_sku),
    ("write", hand_out_a_coupon),
]
