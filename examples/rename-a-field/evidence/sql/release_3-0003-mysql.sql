--
-- Alter field code on product
--
ALTER TABLE `shop_product` MODIFY `code` varchar(20) NULL;
