--
-- Raw SQL operation
--
DROP INDEX CONCURRENTLY IF EXISTS "shop_product_views_bigint_idx";
CREATE INDEX CONCURRENTLY "shop_product_views_bigint_idx" ON "shop_product" ("views_bigint");
