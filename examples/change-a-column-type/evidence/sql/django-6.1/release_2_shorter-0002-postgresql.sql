BEGIN;
--
-- Alter field name on product
--
ALTER TABLE "shop_product" ALTER COLUMN "name" TYPE varchar(30);
COMMIT;
