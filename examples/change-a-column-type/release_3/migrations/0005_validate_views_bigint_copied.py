# Written by hand: reads every row under SHARE UPDATE EXCLUSIVE, which lets reads and writes through. It fails if
# a row's views_bigint is NULL or differs from views (copy_views_to_bigint has not run to the end, or a write went
# round the trigger): run the command, then migrate again. Nothing on other engines.

from django.db import migrations

from ..operations import RunSQLOnPostgreSQL


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0004_views_bigint_copied_not_valid'),
    ]

    operations = [
        RunSQLOnPostgreSQL(
            sql='ALTER TABLE "shop_product" VALIDATE CONSTRAINT "shop_product_views_bigint_copied";',
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
