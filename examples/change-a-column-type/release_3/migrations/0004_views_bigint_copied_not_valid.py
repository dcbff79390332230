# Written by hand: a CHECK that views_bigint is set and equal to views, NOT VALID: it holds for every row written
# from now on without reading the rows already there. 0005 reads them. Nothing on other engines.

from django.db import migrations

from ..operations import RunSQLOnPostgreSQL


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0003_index_views_bigint'),
    ]

    operations = [
        RunSQLOnPostgreSQL(
            sql='ALTER TABLE "shop_product" ADD CONSTRAINT "shop_product_views_bigint_copied" '
                'CHECK ("views_bigint" IS NOT NULL AND "views_bigint" = "views") NOT VALID;',
            reverse_sql='ALTER TABLE "shop_product" DROP CONSTRAINT "shop_product_views_bigint_copied";',
        ),
    ]
