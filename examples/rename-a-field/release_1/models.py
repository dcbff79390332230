from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=100)
    # The field the next releases rename to ``sku``.
    code = models.CharField(max_length=20)


class Coupon(models.Model):
    # The model the unsafe release renames to ``Voucher``.
    code = models.CharField(max_length=20)
    percent_off = models.IntegerField()
