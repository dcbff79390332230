# Edited by hand: the index is built concurrently on PostgreSQL, so writes go on.

from django.db import migrations, models

from ..operations import AddIndexConcurrentlyOnPostgreSQL


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ('shop', '0002_order_customer'),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgreSQL(
            model_name='order',
            index=models.Index(fields=['customer'], name='order_customer_idx'),
        ),
    ]
