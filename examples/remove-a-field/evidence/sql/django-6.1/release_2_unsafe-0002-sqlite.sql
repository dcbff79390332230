BEGIN;
--
-- Delete model Coupon
--
DROP TABLE "shop_coupon";
--
-- Remove field legacy_code from product
--
ALTER TABLE "shop_product" DROP COLUMN "legacy_code";
COMMIT;
