--
-- Rename model Coupon to Voucher
--
RENAME TABLE `shop_coupon` TO `shop_voucher`;
ALTER TABLE `shop_product_coupons` DROP FOREIGN KEY `shop_product_coupons_coupon_id_7d02d460_fk_shop_coupon_id`;
ALTER TABLE `shop_product_coupons` RENAME COLUMN `coupon_id` TO `voucher_id`;
ALTER TABLE `shop_product_coupons` ADD CONSTRAINT `shop_product_coupons_voucher_id_f3189116_fk_shop_voucher_id` FOREIGN KEY (`voucher_id`) REFERENCES `shop_voucher` (`id`);
--
-- Rename field code on product to sku
--
ALTER TABLE `shop_product` RENAME COLUMN `code` TO `sku`;
