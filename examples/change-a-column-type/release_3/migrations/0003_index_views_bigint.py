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
                # The build waits for every older transaction: a lock or statement timeout set for the migrations
                # around it would cancel it, and leave an INVALID index. None for the build; then the session's own.
                "SELECT set_config('migration.saved_lock_timeout', current_setting('lock_timeout'), false), "
                "set_config('migration.saved_statement_timeout', current_setting('statement_timeout'), false);",
                'SET lock_timeout = 0;',
                'SET statement_timeout = 0;',
                'DROP INDEX CONCURRENTLY IF EXISTS "shop_product_views_bigint_idx";',
                'CREATE INDEX CONCURRENTLY "shop_product_views_bigint_idx" ON "shop_product" ("views_bigint");',
                "SELECT set_config('lock_timeout', current_setting('migration.saved_lock_timeout'), false), "
                "set_config('statement_timeout', current_setting('migration.saved_statement_timeout'), false);",
            ],
            reverse_sql='DROP INDEX CONCURRENTLY IF EXISTS "shop_product_views_bigint_idx";',
        ),
    ]
