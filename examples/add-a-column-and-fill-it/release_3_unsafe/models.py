from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=100)
    spent_cents = models.IntegerField()
    # Every row has a value now (release 2 filled them): the column can be NOT NULL.
    loyalty_points = models.IntegerField()
