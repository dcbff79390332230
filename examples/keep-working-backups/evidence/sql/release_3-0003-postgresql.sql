BEGIN;
--
-- Raw SQL operation
--
ALTER TABLE shop_product DROP COLUMN legacy_code;
--
-- Raw SQL operation
--
DROP TABLE shop_coupon;
COMMIT;
