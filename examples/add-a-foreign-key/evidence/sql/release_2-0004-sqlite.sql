BEGIN;
--
-- Add foreign key order_customer_fk NOT VALID (PostgreSQL)
--
-- (no-op)
COMMIT;
