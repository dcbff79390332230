--
-- Create constraint order_reference_key on order, its index concurrently on PostgreSQL
--
CREATE UNIQUE INDEX CONCURRENTLY "order_reference_key" ON "shop_order" ("reference");
ALTER TABLE "shop_order" ADD CONSTRAINT "order_reference_key" UNIQUE USING INDEX "order_reference_key";
