from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=100)
    # Renamed in Django only: the column keeps its name.
    sku = models.CharField(max_length=20, db_column="code")
    coupons = models.ManyToManyField("Voucher")  # keeps its name: a new one would rename its table


class Voucher(models.Model):
    code = models.CharField(max_length=20)
    percent_off = models.IntegerField()

    class Meta:
        db_table = "shop_coupon"  # renamed in Django only: the table keeps its name
