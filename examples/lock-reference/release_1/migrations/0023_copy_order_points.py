# Written by hand: what the guide's steps 2 to 5 leave on PostgreSQL, so that 0024 meets the table it would meet:
# every row copied, a validated CHECK that points_bigint is set and equal to points. The reference shows no row for
# it: its UPDATE of every row stands in for the guide's batched command. Nothing on other engines.
# No reverse_sql, so Django will not reverse it: the reference applies its steps forwards only, on a fresh database.

from django.db import migrations

from ..operations import RunSQLOnPostgreSQL


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0022_order_points_bigint'),
    ]

    operations = [
        RunSQLOnPostgreSQL(sql=[
            'UPDATE "shop_order" SET "points_bigint" = "points";',
            'ALTER TABLE "shop_order" ADD CONSTRAINT "shop_order_points_bigint_copied" '
            'CHECK ("points_bigint" IS NOT NULL AND "points_bigint" = "points") NOT VALID;',
            'ALTER TABLE "shop_order" VALIDATE CONSTRAINT "shop_order_points_bigint_copied";',
        ]),
    ]
