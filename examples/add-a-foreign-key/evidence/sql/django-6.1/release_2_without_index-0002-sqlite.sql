BEGIN;
--
-- Add field customer to order
--
ALTER TABLE "shop_order" ADD COLUMN "customer_id" bigint NULL REFERENCES "shop_customer" ("id") DEFERRABLE INITIALLY DEFERRED;
COMMIT;
