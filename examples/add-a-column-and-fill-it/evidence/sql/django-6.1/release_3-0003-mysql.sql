--
-- Alter field loyalty_points on customer
--
ALTER TABLE `shop_customer` MODIFY `loyalty_points` integer NOT NULL;
