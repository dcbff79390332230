from django.db import models
from django.db.models.functions import Random


class Customer(models.Model):
    name = models.CharField(max_length=100)
    spent_cents = models.IntegerField()
    # New: a default computed per row, so every existing row must be written.
    lucky_draw = models.FloatField(db_default=Random())
