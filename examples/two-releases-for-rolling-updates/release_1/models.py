from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=100)
    # Optional so far: release 1 adds products without a weight.
    weight_grams = models.IntegerField(null=True)
