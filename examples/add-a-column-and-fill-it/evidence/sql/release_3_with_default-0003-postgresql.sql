BEGIN;
--
-- Alter field loyalty_points on customer
--
ALTER TABLE "shop_customer" ALTER COLUMN "loyalty_points" SET DEFAULT 0;
UPDATE "shop_customer" SET "loyalty_points" = 0 WHERE "loyalty_points" IS NULL; SET CONSTRAINTS ALL IMMEDIATE;
ALTER TABLE "shop_customer" ALTER COLUMN "loyalty_points" SET NOT NULL;
ALTER TABLE "shop_customer" ALTER COLUMN "loyalty_points" DROP DEFAULT;
COMMIT;
