from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=100)
    spent_cents = models.IntegerField()
    # Every row has a value now (release 2 filled them): the column can be NOT NULL, with 0 for new customers.
    loyalty_points = models.IntegerField(default=0)
