# Edited by hand: on PostgreSQL the CHECK is added NOT VALID, so it holds for every row written from now on
# without scanning the rows already there; 0004 checks those.

from django.db import migrations, models

from ..operations import AddConstraintNotValidOnPostgreSQL


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0002_loosen_order'),
    ]

    operations = [
        AddConstraintNotValidOnPostgreSQL(
            model_name='order',
            constraint=models.CheckConstraint(condition=models.Q(('total_cents__gte', 0)), name='order_total_cents_gte_0'),
        ),
    ]
