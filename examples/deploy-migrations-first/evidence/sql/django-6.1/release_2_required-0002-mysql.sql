--
-- Add field colour to product
--
ALTER TABLE `shop_product` ADD COLUMN `colour` varchar(20) DEFAULT 'black' NOT NULL;
ALTER TABLE `shop_product` ALTER COLUMN `colour` DROP DEFAULT;
