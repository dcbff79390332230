--
-- Rename model Coupon to Voucher
--
RENAME TABLE `shop_coupon` TO `shop_voucher`;
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
