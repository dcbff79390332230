--
-- Alter field name on product
--
ALTER TABLE `shop_product` MODIFY `name` varchar(60) NOT NULL;
