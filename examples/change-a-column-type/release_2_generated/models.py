from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=50)
    # A counter: every view adds one. A 64-bit integer: it no longer stops at 2,147,483,647.
    views = models.BigIntegerField(default=0, db_index=True)
