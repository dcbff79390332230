"""The app at the end of its migrations, one operation each (see migrations/).

Order got columns, indexes, constraints and a foreign key to Customer, lost some again, was renamed Purchase and
deleted: Customer is what remains.
"""

from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=100)
