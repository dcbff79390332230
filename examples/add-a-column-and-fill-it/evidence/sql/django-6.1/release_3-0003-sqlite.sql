--
-- Alter field loyalty_points on customer
--
CREATE TABLE "new__shop_customer" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "loyalty_points" integer NOT NULL, "name" varchar(100) NOT NULL, "spent_cents" integer NOT NULL);
INSERT INTO "new__shop_customer" ("id", "name", "spent_cents", "loyalty_points") SELECT "id", "name", "spent_cents", coalesce("loyalty_points", NULL) FROM "shop_customer";
DROP TABLE "shop_customer";
ALTER TABLE "new__shop_customer" RENAME TO "shop_customer";
