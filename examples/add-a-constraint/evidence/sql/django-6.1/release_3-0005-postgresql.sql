--
-- Create constraint order_reference_key on order, its index concurrently on PostgreSQL
--
SELECT set_config('migration.saved_lock_timeout', coalesce(current_setting('lock_timeout', true), ''), false), set_config('migration.saved_statement_timeout', coalesce(current_setting('statement_timeout', true), ''), false), set_config('migration.saved_transaction_timeout', coalesce(current_setting('transaction_timeout', true), ''), false);
SELECT set_config('lock_timeout', '0', false) WHERE current_setting('lock_timeout', true) IS NOT NULL;
SELECT set_config('statement_timeout', '0', false) WHERE current_setting('statement_timeout', true) IS NOT NULL;
SELECT set_config('transaction_timeout', '0', false) WHERE current_setting('transaction_timeout', true) IS NOT NULL;
CREATE UNIQUE INDEX CONCURRENTLY "order_reference_key" ON "shop_order" ("reference");
SELECT set_config('lock_timeout', current_setting('migration.saved_lock_timeout'), false) WHERE current_setting('lock_timeout', true) IS NOT NULL;
SELECT set_config('statement_timeout', current_setting('migration.saved_statement_timeout'), false) WHERE current_setting('statement_timeout', true) IS NOT NULL;
SELECT set_config('transaction_timeout', current_setting('migration.saved_transaction_timeout'), false) WHERE current_setting('transaction_timeout', true) IS NOT NULL;
ALTER TABLE "shop_order" ADD CONSTRAINT "order_reference_key" UNIQUE USING INDEX "order_reference_key";
