"""What the release renamed in Django only does all day: the renamed release's code, on the old names."""

import random

from .models import Product, Voucher


def add_product():
    Product.objects.create(name="Teapot", sku=f"T-{random.randrange(10_000)}")


def list_products():
    list(Product.objects.order_by("-id")[:20])


def change_a_sku():
    Product.objects.filter(id=random.randrange(1, 10_000)).update(sku=f"C-{random.randrange(10_000)}")


def hand_out_a_voucher():
    voucher = Voucher.objects.create(code="WELCOME", percent_off=10)
    voucher.product_set.add(*Product.objects.order_by("-id")[:1])


def list_vouchers():
    list(Voucher.objects.order_by("-id")[:20])


def list_products_on_offer():
    list(Product.objects.filter(coupons__percent_off__gte=10).order_by("-id")[:20])


OPERATIONS = [
    ("write", add_product),
    ("read", list_products),
    ("write", change_a_sku),
    ("read", list_vouchers),
    ("read", list_products_on_offer),
    ("write", hand_out_a_voucher),
]
