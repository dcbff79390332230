BEGIN;
--
-- Alter field views on product
--
ALTER TABLE "shop_product" ALTER COLUMN "views" TYPE bigint USING "views"::bigint;
COMMIT;
