from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=100)
    code = models.CharField(max_length=20)
    # The new column, as release 2 adds it; but this release writes only ``code``.
    sku = models.CharField(max_length=20, null=True)
    coupons = models.ManyToManyField("Coupon")


class Coupon(models.Model):
    code = models.CharField(max_length=20)
    percent_off = models.IntegerField()
