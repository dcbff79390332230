from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=100)
    # Required at once, in the release whose code starts setting it.
    weight_grams = models.IntegerField()
