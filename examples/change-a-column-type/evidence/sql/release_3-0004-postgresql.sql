BEGIN;
--
-- Raw SQL operation
--
ALTER TABLE "shop_product" ADD CONSTRAINT "shop_product_views_bigint_copied" CHECK ("views_bigint" IS NOT NULL AND "views_bigint" = "views") NOT VALID;
COMMIT;
