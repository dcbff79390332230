BEGIN;
--
-- Remove field code from product
--
CREATE TABLE "new__shop_product" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "code" varchar(20) NOT NULL, "name" varchar(100) NOT NULL, "note" varchar(200) NULL);
INSERT INTO "new__shop_product" ("id", "name", "note", "code") SELECT "id", "name", "note", NULL FROM "shop_product";
DROP TABLE "shop_product";
ALTER TABLE "new__shop_product" RENAME TO "shop_product";
COMMIT;
