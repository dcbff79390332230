BEGIN;
--
-- Create constraint order_reference_key on model order
--
CREATE TABLE "new__shop_order" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "total_cents" integer NOT NULL, "quantity" integer NOT NULL, "shipping_address" text NULL, "reference" varchar(32) NOT NULL, CONSTRAINT "order_total_cents_gte_0" CHECK ("total_cents" >= 0), CONSTRAINT "order_reference_key" UNIQUE ("reference"));
INSERT INTO "new__shop_order" ("id", "total_cents", "quantity", "shipping_address", "reference") SELECT "id", "total_cents", "quantity", "shipping_address", "reference" FROM "shop_order";
DROP TABLE "shop_order";
ALTER TABLE "new__shop_order" RENAME TO "shop_order";
COMMIT;
