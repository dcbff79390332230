--
-- Add field loyalty_points to customer
--
ALTER TABLE `shop_customer` ADD COLUMN `loyalty_points` integer NULL;
