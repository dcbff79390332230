BEGIN;
--
-- Rename model Coupon to Voucher
--
ALTER TABLE "shop_coupon" RENAME TO "shop_voucher";
ALTER TABLE "shop_product_coupons" RENAME COLUMN "coupon_id" TO "voucher_id";
--
-- Alter field code on product
--
-- (no-op)
--
-- Rename field code on product to sku
--
-- (no-op)
--
-- Rename table for voucher to shop_coupon
--
ALTER TABLE "shop_voucher" RENAME TO "shop_coupon";
COMMIT;
