--
-- Alter field views on product
--
ALTER TABLE `shop_product` MODIFY `views` bigint NOT NULL;
