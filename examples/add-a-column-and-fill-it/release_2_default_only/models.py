from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=100)
    spent_cents = models.IntegerField()
    # New: NOT NULL with a default known to Django only, not to the database.
    loyalty_points = models.IntegerField(default=0)
