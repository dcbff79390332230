from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=100)
    spent_cents = models.IntegerField()
    # New: nullable, so adding it is quick and release 1's inserts still work.
    loyalty_points = models.IntegerField(null=True)
