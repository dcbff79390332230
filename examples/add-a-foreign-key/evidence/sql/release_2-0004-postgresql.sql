BEGIN;
--
-- Add foreign key order_customer_fk NOT VALID (PostgreSQL)
--
ALTER TABLE "shop_order" ADD CONSTRAINT "order_customer_fk" FOREIGN KEY ("customer_id") REFERENCES "shop_customer" ("id") DEFERRABLE INITIALLY DEFERRED NOT VALID;
COMMIT;
