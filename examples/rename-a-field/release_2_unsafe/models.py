from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=100)
    sku = models.CharField(max_length=20)  # was ``code``
    coupons = models.ManyToManyField("Voucher")


class Voucher(models.Model):  # was ``Coupon``
    code = models.CharField(max_length=20)
    percent_off = models.IntegerField()
