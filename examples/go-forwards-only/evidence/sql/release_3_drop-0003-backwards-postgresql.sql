BEGIN;
--
-- Remove field code from product
--
ALTER TABLE "shop_product" ADD COLUMN "code" varchar(20) NOT NULL;
COMMIT;
