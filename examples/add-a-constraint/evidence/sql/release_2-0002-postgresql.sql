BEGIN;
--
-- Remove constraint order_quantity_at_most_10 from model order
--
ALTER TABLE "shop_order" DROP CONSTRAINT "order_quantity_at_most_10";
--
-- Alter field shipping_address on order
--
ALTER TABLE "shop_order" ALTER COLUMN "shipping_address" DROP NOT NULL;
COMMIT;
