BEGIN;
--
-- Remove constraint order_quantity_at_most_10 from model order
--
CREATE TABLE "new__shop_order" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "total_cents" integer NOT NULL, "quantity" integer NOT NULL, "shipping_address" text NOT NULL, "reference" varchar(32) NOT NULL);
INSERT INTO "new__shop_order" ("id", "total_cents", "quantity", "shipping_address", "reference") SELECT "id", "total_cents", "quantity", "shipping_address", "reference" FROM "shop_order";
DROP TABLE "shop_order";
ALTER TABLE "new__shop_order" RENAME TO "shop_order";
--
-- Alter field shipping_address on order
--
CREATE TABLE "new__shop_order" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "total_cents" integer NOT NULL, "quantity" integer NOT NULL, "reference" varchar(32) NOT NULL, "shipping_address" text NULL);
INSERT INTO "new__shop_order" ("id", "total_cents", "quantity", "reference", "shipping_address") SELECT "id", "total_cents", "quantity", "reference", "shipping_address" FROM "shop_order";
DROP TABLE "shop_order";
ALTER TABLE "new__shop_order" RENAME TO "shop_order";
COMMIT;
