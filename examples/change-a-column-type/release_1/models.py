from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=50)
    # A counter: every view adds one. A 32-bit integer stops at 2,147,483,647.
    views = models.IntegerField(default=0, db_index=True)
