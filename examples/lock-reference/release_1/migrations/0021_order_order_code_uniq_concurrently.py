# Written by hand: the UNIQUE constraint of 0019 again, its index built
# concurrently on PostgreSQL, then attached (guides/add-a-constraint.md);
# elsewhere it is Django's AddConstraint.

from django.db import migrations, models

from ..operations import AddUniqueConstraintConcurrently


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ('shop', '0020_remove_order_order_code_uniq'),
    ]

    operations = [
        AddUniqueConstraintConcurrently(
            model_name='order',
            constraint=models.UniqueConstraint(fields=('code',), name='order_code_uniq'),
        ),
    ]
