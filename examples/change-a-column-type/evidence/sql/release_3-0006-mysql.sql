--
-- Custom state/database change combination
--
ALTER TABLE `shop_product` MODIFY `views` bigint NOT NULL;
