BEGIN;
--
-- Rename model Coupon to Voucher
--
ALTER TABLE "shop_coupon" RENAME TO "shop_voucher";
ALTER TABLE "shop_product_coupons" RENAME COLUMN "coupon_id" TO "voucher_id";
--
-- Rename field code on product to sku
--
ALTER TABLE "shop_product" RENAME COLUMN "code" TO "sku";
COMMIT;
