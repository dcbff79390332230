from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=100)
    # Required now: no running code adds a product without a weight, and the command filled the old ones.
    weight_grams = models.IntegerField()
