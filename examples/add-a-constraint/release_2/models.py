from django.db import models


class Order(models.Model):
    total_cents = models.IntegerField()
    # Bulk orders: up to 40 items. The CHECK limiting quantities to 10 is gone.
    quantity = models.IntegerField()
    # Digital orders ship nowhere: the address may be NULL.
    shipping_address = models.TextField(null=True)
    reference = models.CharField(max_length=32)
