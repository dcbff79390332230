BEGIN;
--
-- Rename model Coupon to Voucher
--
ALTER TABLE "shop_coupon" RENAME TO "shop_voucher";
SET CONSTRAINTS "shop_product_coupons_coupon_id_7d02d460_fk_shop_coupon_id" IMMEDIATE; ALTER TABLE "shop_product_coupons" DROP CONSTRAINT "shop_product_coupons_coupon_id_7d02d460_fk_shop_coupon_id";
ALTER TABLE "shop_product_coupons" RENAME COLUMN "coupon_id" TO "voucher_id";
ALTER TABLE "shop_product_coupons" ADD CONSTRAINT "shop_product_coupons_voucher_id_f3189116_fk_shop_voucher_id" FOREIGN KEY ("voucher_id") REFERENCES "shop_voucher" ("id") DEFERRABLE INITIALLY DEFERRED;
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
