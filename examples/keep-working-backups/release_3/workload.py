"""What release 3 does all day (as release 2): adds products, lists them, changes prices. No more legacy codes or coupons."""

import random

from .models import Product


def add_product():
    Product.objects.create(name="Teapot", price_cents=random.randrange(500, 5_000))


def list_products():
    list(Product.objects.order_by("-id")[:20])


def change_a_price():
    Product.objects.filter(id=random.randrange(1, 1_000)).update(price_cents=random.randrange(500, 5_000))


OPERATIONS = [("write", add_product), ("read", list_products), ("write", change_a_price)]
