from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=100)
    code = models.CharField(max_length=20)
    # The new name, as a new column. Nullable: release 1 still inserts without it. Every write sets both.
    sku = models.CharField(max_length=20, null=True)
    coupons = models.ManyToManyField("Coupon")


class Coupon(models.Model):
    code = models.CharField(max_length=20)
    percent_off = models.IntegerField()
