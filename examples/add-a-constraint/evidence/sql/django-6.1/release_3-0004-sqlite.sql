BEGIN;
--
-- Validate constraint order_total_cents_gte_0 on order (PostgreSQL)
--
-- (no-op)
COMMIT;
