BEGIN;
--
-- Rename model Coupon to Voucher
--
ALTER TABLE "shop_coupon" RENAME TO "shop_voucher";
--
-- Rename field code on product to sku
--
ALTER TABLE "shop_product" RENAME COLUMN "code" TO "sku";
COMMIT;
