"""What release 1 does all day: adds products, lists them, changes prices, hands out coupons."""

import random

from .models import Coupon, Product


def add_product():
    Product.objects.create(name="Teapot", price_cents=random.randrange(500, 5_000), legacy_code="T-1")


def list_products():
    list(Product.objects.order_by("-id")[:20])


def change_a_price():
    Product.objects.filter(id=random.randrange(1, 1_000)).update(price_cents=random.randrange(500, 5_000))


def hand_out_a_coupon():
    Coupon.objects.create(code="WELCOME", percent_off=10)


OPERATIONS = [
    ("write", add_product),
    ("read", list_products),
    ("write", change_a_price),
    ("write", hand_out_a_coupon),
]
