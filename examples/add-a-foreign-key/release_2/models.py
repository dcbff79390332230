from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=100)


class Order(models.Model):
    total_cents = models.IntegerField()
    # The new field: which customer placed the order. Nullable: the old orders have none. Its index is the named
    # one below, built concurrently, not the one ForeignKey would add in the same transaction.
    customer = models.ForeignKey(Customer, null=True, on_delete=models.PROTECT, related_name="orders",
                                 db_index=False)

    class Meta:
        indexes = [models.Index(fields=["customer"], name="order_customer_idx")]
