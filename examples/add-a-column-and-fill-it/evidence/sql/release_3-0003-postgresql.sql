--
-- Alter field loyalty_points on customer
--
ALTER TABLE "shop_customer" ADD CONSTRAINT "shop_customer_loyalty_points_not_null_check" CHECK ("loyalty_points" IS NOT NULL) NOT VALID;
ALTER TABLE "shop_customer" VALIDATE CONSTRAINT "shop_customer_loyalty_points_not_null_check";
ALTER TABLE "shop_customer" ALTER COLUMN "loyalty_points" SET NOT NULL;
ALTER TABLE "shop_customer" DROP CONSTRAINT IF EXISTS "shop_customer_loyalty_points_not_null_check";
