# Written by hand: step 1 of a foreign key added in steps (guides/add-a-foreign-key.md) on PostgreSQL, the column
# alone, without its constraint or index; elsewhere the AddField makemigrations writes.
# No reverse_sql, so Django will not reverse it: the reference applies its steps forwards only, on a fresh database.

import django.db.models.deletion
from django.db import migrations, models

from ..operations import AddFieldElsewhere, RunSQLOnPostgreSQL

BUYER = models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='purchases',
                          to='shop.customer')


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0025_order_customer'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                RunSQLOnPostgreSQL(sql='ALTER TABLE "shop_order" ADD COLUMN "buyer_id" bigint NULL;'),
                AddFieldElsewhere(model_name='order', name='buyer', field=BUYER),
            ],
            state_operations=[
                migrations.AddField(model_name='order', name='buyer', field=BUYER),
            ],
        ),
    ]
