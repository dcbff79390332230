BEGIN;
--
-- Alter field weight_grams on product
--
ALTER TABLE "shop_product" ALTER COLUMN "weight_grams" SET NOT NULL;
COMMIT;
