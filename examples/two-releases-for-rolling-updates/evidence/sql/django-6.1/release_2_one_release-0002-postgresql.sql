BEGIN;
--
-- Alter field weight_grams on product
--
ALTER TABLE "shop_product" ALTER COLUMN "weight_grams" SET DEFAULT 0;
UPDATE "shop_product" SET "weight_grams" = 0 WHERE "weight_grams" IS NULL; SET CONSTRAINTS ALL IMMEDIATE;
ALTER TABLE "shop_product" ALTER COLUMN "weight_grams" SET NOT NULL;
ALTER TABLE "shop_product" ALTER COLUMN "weight_grams" DROP DEFAULT;
COMMIT;
