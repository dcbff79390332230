from django.db import models


class Order(models.Model):
    customer_id = models.IntegerField()
    total_cents = models.IntegerField()
    status = models.CharField(max_length=20, default="paid")
    # New in release 2, nullable: the rows already there need no value.
    gift_message = models.CharField(max_length=200, null=True, blank=True)

    class Meta:
        indexes = [
            # Named for what it serves: looking up a customer's orders.
            models.Index(fields=["customer_id"], name="order_customer_idx"),
        ]
