# Written by hand: step 6 of integer → bigint (guides/change-a-column-type.md) on PostgreSQL, the swap in one
# transaction; elsewhere the AlterField makemigrations writes.
# No reverse_sql, so Django will not reverse it: the reference applies its steps forwards only, on a fresh database.

from django.db import migrations, models

from ..operations import AlterFieldElsewhere, RunSQLOnPostgreSQL

POINTS = models.BigIntegerField(default=0)


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0023_copy_order_points'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                RunSQLOnPostgreSQL(sql=[
                    'ALTER TABLE "shop_order" ALTER COLUMN "points_bigint" SET NOT NULL;',
                    'ALTER TABLE "shop_order" DROP CONSTRAINT "shop_order_points_bigint_copied";',
                    'DROP TRIGGER "shop_order_points_bigint" ON "shop_order";',
                    'DROP FUNCTION "shop_order_points_bigint"();',
                    'ALTER TABLE "shop_order" DROP COLUMN "points";',
                    'ALTER TABLE "shop_order" RENAME COLUMN "points_bigint" TO "points";',
                    # PostgreSQL 18 keeps NOT NULL as a constraint named after the column it was set on.
                    "DO $$ BEGIN IF current_setting('server_version_num')::int >= 180000 THEN "
                    'ALTER TABLE "shop_order" RENAME CONSTRAINT "shop_order_points_bigint_not_null" '
                    'TO "shop_order_points_not_null"; END IF; END $$;',
                ]),
                AlterFieldElsewhere(model_name='order', name='points', field=POINTS),
            ],
            state_operations=[
                migrations.AlterField(model_name='order', name='points', field=POINTS),
            ],
        ),
    ]
