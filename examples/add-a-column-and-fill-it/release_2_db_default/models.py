from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=100)
    spent_cents = models.IntegerField()
    # New: a constant default kept in the database itself, so release 1's inserts get it.
    loyalty_points = models.IntegerField(db_default=0)
