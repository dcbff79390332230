from django.db import models


class Order(models.Model):
    total_cents = models.IntegerField()
    quantity = models.IntegerField()
    shipping_address = models.TextField()
    reference = models.CharField(max_length=32)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__lte=10), name="order_quantity_at_most_10"),
        ]
