from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=100)


class Order(models.Model):
    total_cents = models.IntegerField()
    # The new field without the index ForeignKey adds by default: the column and its constraint only.
    customer = models.ForeignKey(Customer, null=True, on_delete=models.PROTECT, related_name="orders",
                                 db_index=False)
