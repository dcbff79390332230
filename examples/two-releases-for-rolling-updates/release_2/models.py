from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=100)
    # Still nullable: release 1, serving beside this release, adds products without a weight. This release always
    # sets one; release 3 makes the column NOT NULL.
    weight_grams = models.IntegerField(null=True)
