--
-- Alter field name on product
--
ALTER TABLE `shop_product` MODIFY `name` varchar(30) NOT NULL;
