# Written by hand. On PostgreSQL, one short transaction: views_bigint becomes NOT NULL (the validated CHECK proves
# it, so no row is read), the trigger and the old column go, and views_bigint and its index take their names. Every
# release's code reads and writes "views": the old code goes on, on the new column. On other engines, the
# AlterField that makemigrations wrote.
#
# Not reversible: going back to integer would fail on any count past 2,147,483,647. Fix forward.

from django.db import migrations, models

from ..operations import AlterFieldElsewhere, RunSQLOnPostgreSQL

VIEWS = models.BigIntegerField(db_index=True, default=0)


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0005_validate_views_bigint_copied'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                RunSQLOnPostgreSQL(sql=[
                    'ALTER TABLE "shop_product" ALTER COLUMN "views_bigint" SET NOT NULL;',
                    'ALTER TABLE "shop_product" DROP CONSTRAINT "shop_product_views_bigint_copied";',
                    'DROP TRIGGER "shop_product_views_bigint" ON "shop_product";',
                    'DROP FUNCTION "shop_product_views_bigint"();',
                    # Its index goes with it. The rows are not rewritten.
                    'ALTER TABLE "shop_product" DROP COLUMN "views";',
                    'ALTER TABLE "shop_product" RENAME COLUMN "views_bigint" TO "views";',
                    # PostgreSQL 18 keeps NOT NULL as a constraint named after the column it was set on.
                    "DO $$ BEGIN IF current_setting('server_version_num')::int >= 180000 THEN "
                    'ALTER TABLE "shop_product" RENAME CONSTRAINT "shop_product_views_bigint_not_null" '
                    'TO "shop_product_views_not_null"; END IF; END $$;',
                    # The name Django gives the index of views (see 0001's SQL).
                    'ALTER INDEX "shop_product_views_bigint_idx" RENAME TO "shop_product_views_96b69245";',
                ]),
                AlterFieldElsewhere(model_name='product', name='views', field=VIEWS),
            ],
            state_operations=[
                migrations.AlterField(model_name='product', name='views', field=VIEWS),
            ],
        ),
    ]
