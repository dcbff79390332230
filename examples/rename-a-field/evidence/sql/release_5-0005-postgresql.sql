BEGIN;
--
-- Raw SQL operation
--
ALTER TABLE shop_product DROP COLUMN code;
COMMIT;
