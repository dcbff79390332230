BEGIN;
--
-- Add field sku to product
--
ALTER TABLE "shop_product" ADD COLUMN "sku" varchar(20) NULL;
COMMIT;
