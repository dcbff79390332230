"""Release 2's code, over a colour column that is NOT NULL."""

import random

from .models import Product

COLOURS = ["black", "white", "red"]


def add_product():
    Product.objects.create(name="Teapot", price_cents=random.randrange(500, 5_000), colour=random.choice(COLOURS))


def list_products():
    list(Product.objects.order_by("-id")[:20])


def list_red_products():
    list(Product.objects.filter(colour="red").order_by("-id")[:20])


def change_a_price():
    Product.objects.filter(id=random.randrange(1, 10_000)).update(price_cents=random.randrange(500, 5_000))


def paint_a_product():
    Product.objects.filter(id=random.randrange(1, 10_000)).update(colour=random.choice(COLOURS))


OPERATIONS = [
    ("write", add_product),
    ("read", list_products),
    ("write", change_a_price),
    ("read", list_red_products),
    ("write", paint_a_product),
]
