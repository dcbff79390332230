"""Release 2 of the expand and contract: reads ``code``, writes ``code`` and ``sku`` together, everywhere."""

import random

from .models import Coupon, Product


def add_product():
    code = f"T-{random.randrange(10_000)}"
    Product.objects.create(name="Teapot", code=code, sku=code)


def list_products():
    list(Product.objects.order_by("-id")[:20])


def change_a_code():
    # One UPDATE sets both columns: no moment where they differ.
    code = f"C-{random.randrange(10_000)}"
    Product.objects.filter(id=random.randrange(1, 10_000)).update(code=code, sku=code)


def hand_out_a_coupon():
    Coupon.objects.create(code="WELCOME", percent_off=10)


def list_coupons():
    list(Coupon.objects.order_by("-id")[:20])


OPERATIONS = [
    ("write", add_product),
    ("read", list_products),
    ("write", change_a_code),
    ("read", list_coupons),
    ("write", hand_out_a_coupon),
]
