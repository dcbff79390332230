BEGIN;
--
-- Validate foreign key order_customer_fk (PostgreSQL)
--
ALTER TABLE "shop_order" VALIDATE CONSTRAINT "order_customer_fk";
COMMIT;
