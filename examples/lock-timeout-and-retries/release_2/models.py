from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=100)


class Order(models.Model):
    customer_id = models.IntegerField()
    total_cents = models.IntegerField()
    # The new field: nullable, so adding it is a quick change of the table's definition.
    note = models.CharField(max_length=200, null=True)
