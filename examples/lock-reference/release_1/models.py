"""The app at the end of its migrations, one operation each (see migrations/).

Order got columns, indexes, constraints and a foreign key to Customer, lost some again, was renamed Purchase and
deleted: Customer is what remains, its name indexed, then made text.
"""

from django.db import models


class Customer(models.Model):
    name = models.TextField(db_index=True)
