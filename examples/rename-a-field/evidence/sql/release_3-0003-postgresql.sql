BEGIN;
--
-- Alter field code on product
--
ALTER TABLE "shop_product" ALTER COLUMN "code" DROP NOT NULL;
COMMIT;
