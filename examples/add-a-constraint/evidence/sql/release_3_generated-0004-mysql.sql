--
-- Create constraint order_reference_key on model order
--
ALTER TABLE `shop_order` ADD CONSTRAINT `order_reference_key` UNIQUE (`reference`);
