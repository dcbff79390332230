--
-- Create constraint order_reference_key on order, its index concurrently on PostgreSQL
--
SET lock_timeout = 0;
SET statement_timeout = 0;
CREATE UNIQUE INDEX CONCURRENTLY "order_reference_key" ON "shop_order" ("reference");
RESET lock_timeout;
RESET statement_timeout;
ALTER TABLE "shop_order" ADD CONSTRAINT "order_reference_key" UNIQUE USING INDEX "order_reference_key";
