--
-- Alter field weight_grams on product
--
ALTER TABLE "shop_product" ADD CONSTRAINT "shop_product_weight_grams_not_null_check" CHECK ("weight_grams" IS NOT NULL) NOT VALID;
ALTER TABLE "shop_product" VALIDATE CONSTRAINT "shop_product_weight_grams_not_null_check";
ALTER TABLE "shop_product" ALTER COLUMN "weight_grams" SET NOT NULL;
ALTER TABLE "shop_product" DROP CONSTRAINT IF EXISTS "shop_product_weight_grams_not_null_check";
