BEGIN;
--
-- Alter field code on product
--
CREATE TABLE "new__shop_product" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "code" varchar(20) NULL, "name" varchar(100) NOT NULL, "sku" varchar(20) NULL);
INSERT INTO "new__shop_product" ("id", "name", "sku", "code") SELECT "id", "name", "sku", "code" FROM "shop_product";
DROP TABLE "shop_product";
ALTER TABLE "new__shop_product" RENAME TO "shop_product";
COMMIT;
