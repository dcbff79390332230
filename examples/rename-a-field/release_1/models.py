from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=100)
    # The field the next releases rename to ``sku``.
    code = models.CharField(max_length=20)
    # The coupons it takes. Django makes the table that links them: shop_product_coupons, with a product_id
    # and a coupon_id column.
    coupons = models.ManyToManyField("Coupon")


class Coupon(models.Model):
    # The model the unsafe release renames to ``Voucher``.
    code = models.CharField(max_length=20)
    percent_off = models.IntegerField()
