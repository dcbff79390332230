# Edited by hand: on PostgreSQL the unique index is built concurrently, so
# reads and writes go on, then it becomes the constraint.

from django.db import migrations, models

from ..operations import AddUniqueConstraintConcurrently


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ('shop', '0004_validate_order_total_cents_gte_0'),
    ]

    operations = [
        AddUniqueConstraintConcurrently(
            model_name='order',
            constraint=models.UniqueConstraint(fields=('reference',), name='order_reference_key'),
        ),
    ]
