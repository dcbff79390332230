BEGIN;
--
-- Validate constraint order_total_cents_gte_0 on order (PostgreSQL)
--
ALTER TABLE "shop_order" VALIDATE CONSTRAINT "order_total_cents_gte_0";
COMMIT;
