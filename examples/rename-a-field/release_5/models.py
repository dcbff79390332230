from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=100)
    sku = models.CharField(max_length=20, null=True)
    coupons = models.ManyToManyField("Coupon")


class Coupon(models.Model):
    code = models.CharField(max_length=20)
    percent_off = models.IntegerField()
