BEGIN;
--
-- Custom state/database change combination
--
ALTER TABLE "shop_product" ALTER COLUMN "views_bigint" SET NOT NULL;
ALTER TABLE "shop_product" DROP CONSTRAINT "shop_product_views_bigint_copied";
DROP TRIGGER "shop_product_views_bigint" ON "shop_product";
DROP FUNCTION "shop_product_views_bigint"();
ALTER TABLE "shop_product" DROP COLUMN "views";
ALTER TABLE "shop_product" RENAME COLUMN "views_bigint" TO "views";
DO $$ BEGIN IF current_setting('server_version_num')::int >= 180000 THEN ALTER TABLE "shop_product" RENAME CONSTRAINT "shop_product_views_bigint_not_null" TO "shop_product_views_not_null"; END IF; END $$;
ALTER INDEX "shop_product_views_bigint_idx" RENAME TO "shop_product_views_96b69245";
COMMIT;
