# Written by hand: check the rows already there against the constraint, on
# PostgreSQL, in a transaction of its own.

from django.db import migrations

from ..operations import ValidateForeignKey


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0004_order_customer_fk'),
    ]

    operations = [
        ValidateForeignKey(model_name='order', name='customer', constraint='order_customer_fk'),
    ]
