--
-- Add field customer to order
--
ALTER TABLE `shop_order` ADD COLUMN `customer_id` bigint NULL , ADD CONSTRAINT `shop_order_customer_id_f638df20_fk_shop_customer_id` FOREIGN KEY (`customer_id`) REFERENCES `shop_customer`(`id`);
