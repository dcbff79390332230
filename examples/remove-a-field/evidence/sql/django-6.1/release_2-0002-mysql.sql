--
-- Custom state/database change combination
--
ALTER TABLE `shop_product` MODIFY `legacy_code` varchar(20) NULL;
