# Written by hand: the foreign key's constraint NOT VALID (guides/add-a-foreign-key.md), on PostgreSQL only.
# No reverse_sql, so Django will not reverse it: the reference applies its steps forwards only, on a fresh database.

from django.db import migrations

from ..operations import RunSQLOnPostgreSQL


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0026_order_buyer'),
    ]

    operations = [
        RunSQLOnPostgreSQL(sql='ALTER TABLE "shop_order" ADD CONSTRAINT "order_buyer_fk" FOREIGN KEY ("buyer_id") '
                               'REFERENCES "shop_customer" ("id") DEFERRABLE INITIALLY DEFERRED NOT VALID;'),
    ]
