--
-- Alter field weight_grams on product
--
ALTER TABLE `shop_product` MODIFY `weight_grams` integer NOT NULL;
