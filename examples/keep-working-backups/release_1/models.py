from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=100)
    price_cents = models.IntegerField()
    # The field the next releases remove: a code from a system the shop no longer uses.
    legacy_code = models.CharField(max_length=20)


class Coupon(models.Model):
    # The model the next releases remove.
    code = models.CharField(max_length=20)
    percent_off = models.IntegerField()
