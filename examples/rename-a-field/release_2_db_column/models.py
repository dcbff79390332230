from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=100)
    # Renamed in Django only: the column keeps its name.
    sku = models.CharField(max_length=20, db_column="code")
    # The table Django made for this field, named in Django (ProductCoupon): the one it would make now has a
    # voucher_id column, which the database does not have.
    coupons = models.ManyToManyField("Voucher", through="ProductCoupon")


class Voucher(models.Model):
    code = models.CharField(max_length=20)
    percent_off = models.IntegerField()

    class Meta:
        db_table = "shop_coupon"  # renamed in Django only: the table keeps its name


class ProductCoupon(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE)
    voucher = models.ForeignKey(Voucher, on_delete=models.CASCADE, db_column="coupon_id")

    class Meta:
        db_table = "shop_product_coupons"
        # As Django declares the pair on the table it makes: a later change finds the database's constraint by its
        # columns, where a UniqueConstraint would look for a name the database does not have.
        unique_together = [("product", "voucher")]
