BEGIN;
--
-- Add field colour to product
--
CREATE TABLE "new__shop_product" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "colour" varchar(20) NOT NULL, "name" varchar(100) NOT NULL, "price_cents" integer NOT NULL);
INSERT INTO "new__shop_product" ("id", "name", "price_cents", "colour") SELECT "id", "name", "price_cents", 'black' FROM "shop_product";
DROP TABLE "shop_product";
ALTER TABLE "new__shop_product" RENAME TO "shop_product";
COMMIT;
