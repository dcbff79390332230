# Written by hand: step 1 of integer → bigint (guides/change-a-column-type.md) on PostgreSQL: a bigint column beside
# points, kept equal to it by a trigger. Nothing on other engines.
# No reverse_sql, so Django will not reverse it: the reference applies its steps forwards only, on a fresh database.

from django.db import migrations

from ..operations import RunSQLOnPostgreSQL


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0021_order_order_code_uniq_concurrently'),
    ]

    operations = [
        RunSQLOnPostgreSQL(sql=[
            'ALTER TABLE "shop_order" ADD COLUMN "points_bigint" bigint NULL;',
            'CREATE FUNCTION "shop_order_points_bigint"() RETURNS trigger LANGUAGE plpgsql AS $$ '
            'BEGIN NEW."points_bigint" := NEW."points"; RETURN NEW; END $$;',
            'CREATE TRIGGER "shop_order_points_bigint" BEFORE INSERT OR UPDATE ON "shop_order" '
            'FOR EACH ROW EXECUTE FUNCTION "shop_order_points_bigint"();',
        ]),
    ]
