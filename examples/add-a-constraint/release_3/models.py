from django.db import models


class Order(models.Model):
    total_cents = models.IntegerField()
    quantity = models.IntegerField()
    shipping_address = models.TextField(null=True)
    reference = models.CharField(max_length=32)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(total_cents__gte=0), name="order_total_cents_gte_0"),
            models.UniqueConstraint(fields=["reference"], name="order_reference_key"),
        ]
