--
-- Alter field weight_grams on product
--
ALTER TABLE `shop_product` ALTER COLUMN `weight_grams` SET DEFAULT 0;
UPDATE `shop_product` SET `weight_grams` = 0 WHERE `weight_grams` IS NULL;
ALTER TABLE `shop_product` MODIFY `weight_grams` integer NOT NULL;
ALTER TABLE `shop_product` ALTER COLUMN `weight_grams` DROP DEFAULT;
