# Written by hand: check the rows already there against the constraint, on
# PostgreSQL, in a transaction of its own.

from django.db import migrations

from ..operations import ValidateConstraintOnPostgreSQL


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0003_order_total_cents_gte_0'),
    ]

    operations = [
        ValidateConstraintOnPostgreSQL(model_name='order', name='order_total_cents_gte_0'),
    ]
