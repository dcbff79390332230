BEGIN;
--
-- Raw SQL operation
--
ALTER TABLE "shop_product" VALIDATE CONSTRAINT "shop_product_views_bigint_copied";
COMMIT;
