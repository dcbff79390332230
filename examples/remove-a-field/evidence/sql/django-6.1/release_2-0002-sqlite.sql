BEGIN;
--
-- Custom state/database change combination
--
CREATE TABLE "new__shop_product" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "legacy_code" varchar(20) NULL, "name" varchar(100) NOT NULL, "price_cents" integer NOT NULL);
INSERT INTO "new__shop_product" ("id", "name", "price_cents", "legacy_code") SELECT "id", "name", "price_cents", "legacy_code" FROM "shop_product";
DROP TABLE "shop_product";
ALTER TABLE "new__shop_product" RENAME TO "shop_product";
COMMIT;
