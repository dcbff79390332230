--
-- Create constraint order_total_cents_gte_0 on model order
--
ALTER TABLE `shop_order` ADD CONSTRAINT `order_total_cents_gte_0` CHECK (`total_cents` >= 0);
