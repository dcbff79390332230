BEGIN;
--
-- Validate foreign key order_customer_fk (PostgreSQL)
--
-- (no-op)
COMMIT;
