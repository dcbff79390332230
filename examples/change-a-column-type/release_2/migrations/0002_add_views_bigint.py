# Written by hand: on PostgreSQL, a bigint column beside views, kept equal to it by a trigger. Django's models do
# not know the column: the code of every release reads and writes views alone. Nothing on other engines.

from django.db import migrations

from ..operations import RunSQLOnPostgreSQL


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0001_initial'),
    ]

    operations = [
        RunSQLOnPostgreSQL(
            sql=[
                # Nullable, without a default: the rows are not rewritten.
                'ALTER TABLE "shop_product" ADD COLUMN "views_bigint" bigint NULL;',
                'CREATE FUNCTION "shop_product_views_bigint"() RETURNS trigger LANGUAGE plpgsql AS $$ '
                'BEGIN NEW."views_bigint" := NEW."views"; RETURN NEW; END $$;',
                # Every row a release inserts or updates from now on has both columns equal.
                'CREATE TRIGGER "shop_product_views_bigint" BEFORE INSERT OR UPDATE ON "shop_product" '
                'FOR EACH ROW EXECUTE FUNCTION "shop_product_views_bigint"();',
            ],
            reverse_sql=[
                'DROP TRIGGER "shop_product_views_bigint" ON "shop_product";',
                'DROP FUNCTION "shop_product_views_bigint"();',
                'ALTER TABLE "shop_product" DROP COLUMN "views_bigint";',
            ],
        ),
    ]
