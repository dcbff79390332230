from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=100)
    price_cents = models.IntegerField()
    # New in release 2, and nullable: release 1's inserts, which leave it out, still succeed.
    colour = models.CharField(max_length=20, null=True)
