--
-- Create constraint order_reference_key on order, its index concurrently on PostgreSQL
--
ALTER TABLE `shop_order` ADD CONSTRAINT `order_reference_key` UNIQUE (`reference`);
