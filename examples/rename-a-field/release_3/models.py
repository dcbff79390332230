from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=100)
    # Still written, no longer read; nullable now, so that release 4 can stop writing it.
    code = models.CharField(max_length=20, null=True)
    sku = models.CharField(max_length=20, null=True)
    coupons = models.ManyToManyField("Coupon")


class Coupon(models.Model):
    code = models.CharField(max_length=20)
    percent_off = models.IntegerField()
