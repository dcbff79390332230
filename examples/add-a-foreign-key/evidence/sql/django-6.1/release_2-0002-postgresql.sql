BEGIN;
--
-- Add field customer to order: on PostgreSQL the column alone
--
ALTER TABLE "shop_order" ADD COLUMN IF NOT EXISTS "customer_id" bigint NULL;
COMMIT;
