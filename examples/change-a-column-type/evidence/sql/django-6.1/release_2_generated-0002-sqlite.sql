BEGIN;
--
-- Alter field views on product
--
CREATE TABLE "new__shop_product" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "views" bigint NOT NULL, "name" varchar(50) NOT NULL);
INSERT INTO "new__shop_product" ("id", "name", "views") SELECT "id", "name", "views" FROM "shop_product";
DROP TABLE "shop_product";
ALTER TABLE "new__shop_product" RENAME TO "shop_product";
CREATE INDEX "shop_product_views_96b69245" ON "shop_product" ("views");
COMMIT;
