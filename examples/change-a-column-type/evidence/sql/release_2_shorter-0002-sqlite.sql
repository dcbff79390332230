BEGIN;
--
-- Alter field name on product
--
CREATE TABLE "new__shop_product" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(30) NOT NULL, "views" integer NOT NULL);
INSERT INTO "new__shop_product" ("id", "views", "name") SELECT "id", "views", "name" FROM "shop_product";
DROP TABLE "shop_product";
ALTER TABLE "new__shop_product" RENAME TO "shop_product";
CREATE INDEX "shop_product_views_96b69245" ON "shop_product" ("views");
COMMIT;
