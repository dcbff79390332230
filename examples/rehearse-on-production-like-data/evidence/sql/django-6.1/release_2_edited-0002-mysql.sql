--
-- Create index order_customer_idx on order, concurrently on PostgreSQL
--
CREATE INDEX `order_customer_idx` ON `shop_order` (`customer_id`);
