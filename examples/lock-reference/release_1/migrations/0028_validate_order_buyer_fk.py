# Written by hand: the foreign key's validation (guides/add-a-foreign-key.md), on PostgreSQL only.
# No reverse_sql, so Django will not reverse it: the reference applies its steps forwards only, on a fresh database.

from django.db import migrations

from ..operations import RunSQLOnPostgreSQL


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0027_order_buyer_fk_not_valid'),
    ]

    operations = [
        RunSQLOnPostgreSQL(sql='ALTER TABLE "shop_order" VALIDATE CONSTRAINT "order_buyer_fk";'),
    ]
