--
-- Add field colour to product
--
ALTER TABLE `shop_product` ADD COLUMN `colour` varchar(20) NULL;
