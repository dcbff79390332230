--
-- Alter field weight_grams on product
--
CREATE TABLE "new__shop_product" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "weight_grams" integer NOT NULL, "name" varchar(100) NOT NULL);
INSERT INTO "new__shop_product" ("id", "name", "weight_grams") SELECT "id", "name", coalesce("weight_grams", NULL) FROM "shop_product";
DROP TABLE "shop_product";
ALTER TABLE "new__shop_product" RENAME TO "shop_product";
