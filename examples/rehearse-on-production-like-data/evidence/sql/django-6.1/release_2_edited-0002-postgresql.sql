--
-- Create index order_customer_idx on order, concurrently on PostgreSQL
--
SELECT set_config('migration.saved_lock_timeout', current_setting('lock_timeout'), false), set_config('migration.saved_statement_timeout', current_setting('statement_timeout'), false);
SET lock_timeout = 0;
SET statement_timeout = 0;
CREATE INDEX CONCURRENTLY "order_customer_idx" ON "shop_order" ("customer_id");
SELECT set_config('lock_timeout', current_setting('migration.saved_lock_timeout'), false), set_config('statement_timeout', current_setting('migration.saved_statement_timeout'), false);
