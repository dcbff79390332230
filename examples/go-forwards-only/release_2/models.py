from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=100)
    code = models.CharField(max_length=20)
    # New in release 2, nullable: the data that going back would lose.
    note = models.CharField(max_length=200, null=True)
