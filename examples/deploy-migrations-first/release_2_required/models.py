from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=100)
    price_cents = models.IntegerField()
    # New in this release, NOT NULL: the default is Django's, not the database's, so release 1's inserts fail.
    colour = models.CharField(max_length=20, default="black")
