"""What release 1 does all day: adds products, lists them, changes their codes, hands out coupons."""

import random

from .models import Coupon, Product


def add_product():
    Product.objects.create(name="Teapot", code=f"T-{random.randrange(10_000)}")


def list_products():
    list(Product.objects.order_by("-id")[:20])


def change_a_code():
    Product.objects.filter(id=random.randrange(1, 10_000)).update(code=f"C-{random.randrange(10_000)}")


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
