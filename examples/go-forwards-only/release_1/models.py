from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=100)
    # The field release 3 removes.
    code = models.CharField(max_length=20)
