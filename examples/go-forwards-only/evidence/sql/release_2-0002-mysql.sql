--
-- Add field note to product
--
ALTER TABLE `shop_product` ADD COLUMN `note` varchar(200) NULL;
