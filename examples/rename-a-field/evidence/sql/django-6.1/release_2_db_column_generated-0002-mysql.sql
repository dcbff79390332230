--
-- Rename model Coupon to Voucher
--
RENAME TABLE `shop_coupon` TO `shop_voucher`;
ALTER TABLE `shop_product_coupons` DROP FOREIGN KEY `shop_product_coupons_coupon_id_7d02d460_fk_shop_coupon_id`;
ALTER TABLE `shop_product_coupons` RENAME COLUMN `coupon_id` TO `voucher_id`;
ALTER TABLE `shop_product_coupons` ADD CONSTRAINT `shop_product_coupons_voucher_id_f3189116_fk_shop_voucher_id` FOREIGN KEY (`voucher_id`) REFERENCES `shop_voucher` (`id`);
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
RENAME TABLE `shop_voucher` TO `shop_coupon`;
