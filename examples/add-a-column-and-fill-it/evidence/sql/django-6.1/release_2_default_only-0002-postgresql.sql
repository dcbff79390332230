BEGIN;
--
-- Add field loyalty_points to customer
--
ALTER TABLE "shop_customer" ADD COLUMN "loyalty_points" integer DEFAULT 0 NOT NULL;
ALTER TABLE "shop_customer" ALTER COLUMN "loyalty_points" DROP DEFAULT;
COMMIT;
