BEGIN;
--
-- Raw SQL operation
--
ALTER TABLE "shop_product" ADD CONSTRAINT "shop_product_views_bigint_is_not_null" CHECK ("views_bigint" IS NOT NULL) NOT VALID;
COMMIT;
