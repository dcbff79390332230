# Written by hand: validate the CHECK of 0017 on PostgreSQL; nothing elsewhere.

from django.db import migrations

from ..operations import ValidateConstraintOnPostgreSQL


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0017_order_order_total_cents_gte_0_not_valid'),
    ]

    operations = [
        ValidateConstraintOnPostgreSQL(model_name='order', name='order_total_cents_gte_0'),
    ]
