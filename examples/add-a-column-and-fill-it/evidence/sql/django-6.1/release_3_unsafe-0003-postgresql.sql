BEGIN;
--
-- Alter field loyalty_points on customer
--
ALTER TABLE "shop_customer" ALTER COLUMN "loyalty_points" SET NOT NULL;
COMMIT;
