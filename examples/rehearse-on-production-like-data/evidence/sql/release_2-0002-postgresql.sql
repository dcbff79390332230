BEGIN;
--
-- Create index order_customer_idx on field(s) customer_id of model order
--
CREATE INDEX "order_customer_idx" ON "shop_order" ("customer_id");
COMMIT;
