--
-- Create constraint order_reference_key on order, its index concurrently on PostgreSQL
--
SELECT set_config('migration.saved_lock_timeout', current_setting('lock_timeout'), false),
       set_config('migration.saved_statement_timeout', current_setting('statement_timeout'), false);
SET lock_timeout = 0;
SET statement_timeout = 0;
CREATE UNIQUE INDEX CONCURRENTLY "order_reference_key" ON "shop_order" ("reference");
SELECT set_config('lock_timeout', current_setting('migration.saved_lock_timeout'), false),
       set_config('statement_timeout', current_setting('migration.saved_statement_timeout'), false);
ALTER TABLE "shop_order" ADD CONSTRAINT "order_reference_key" UNIQUE USING INDEX "order_reference_key";
