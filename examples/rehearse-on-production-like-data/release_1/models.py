from django.db import models


class Order(models.Model):
    customer_id = models.IntegerField()
    total_cents = models.IntegerField()
    status = models.CharField(max_length=20, default="paid")
