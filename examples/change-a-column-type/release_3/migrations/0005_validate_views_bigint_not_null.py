# Written by hand: reads every row under SHARE UPDATE EXCLUSIVE, which lets reads and writes through. It fails if
# copy_views_to_bigint has not run to the end: run it, then migrate again. Nothing on other engines.

from django.db import migrations

from ..operations import RunSQLOnPostgreSQL


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0004_views_bigint_not_null_not_valid'),
    ]

    operations = [
        RunSQLOnPostgreSQL(
            sql='ALTER TABLE "shop_product" VALIDATE CONSTRAINT "shop_product_views_bigint_is_not_null";',
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
