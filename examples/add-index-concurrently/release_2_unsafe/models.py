from django.db import models


class Order(models.Model):
    customer_id = models.IntegerField()
    total_cents = models.IntegerField()
    status = models.CharField(max_length=20, default="paid")

    class Meta:
        indexes = [
            # Named for what it serves: looking up a customer's orders.
            models.Index(fields=["customer_id"], name="order_customer_idx"),
        ]
