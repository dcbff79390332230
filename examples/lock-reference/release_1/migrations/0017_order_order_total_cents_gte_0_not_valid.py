# Written by hand: the CHECK of 0015 again, NOT VALID on PostgreSQL
# (guides/add-a-constraint.md); elsewhere it is Django's AddConstraint.

from django.db import migrations, models

from ..operations import AddConstraintNotValidOnPostgreSQL


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0016_remove_order_order_total_cents_gte_0'),
    ]

    operations = [
        AddConstraintNotValidOnPostgreSQL(
            model_name='order',
            constraint=models.CheckConstraint(condition=models.Q(('total_cents__gte', 0)), name='order_total_cents_gte_0'),
        ),
    ]
