# Written by hand: the index views will need, built concurrently on views_bigint while the site writes. Not atomic:
# CREATE INDEX CONCURRENTLY cannot run in a transaction. Run again after a failure: an index left by a failed
# build (INVALID) is dropped first. Nothing on other engines.

from django.db import migrations

from ..operations import RunSQLOnPostgreSQL


class Migration(migrations.Migration):

    atomic = False

    dependencies = [
        ('shop', '0002_add_views_bigint'),
    ]

    operations = [
        RunSQLOnPostgreSQL(
            sql=[
                'DROP INDEX CONCURRENTLY IF EXISTS "shop_product_views_bigint_idx";',
                'CREATE INDEX CONCURRENTLY "shop_product_views_bigint_idx" ON "shop_product" ("views_bigint");',
            ],
            reverse_sql='DROP INDEX CONCURRENTLY IF EXISTS "shop_product_views_bigint_idx";',
        ),
    ]
