--
-- Remove constraint order_quantity_at_most_10 from model order
--
ALTER TABLE `shop_order` DROP CONSTRAINT IF EXISTS `order_quantity_at_most_10`;
--
-- Alter field shipping_address on order
--
ALTER TABLE `shop_order` MODIFY `shipping_address` longtext NULL;
