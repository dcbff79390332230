--
-- Rename model Coupon to Voucher
--
RENAME TABLE `shop_coupon` TO `shop_voucher`;
--
-- Rename field code on product to sku
--
ALTER TABLE `shop_product` RENAME COLUMN `code` TO `sku`;
