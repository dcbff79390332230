BEGIN;
--
-- Rename model Coupon to Voucher
--
ALTER TABLE "shop_coupon" RENAME TO "shop_voucher";
CREATE TABLE "new__shop_product_coupons" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "product_id" bigint NOT NULL REFERENCES "shop_product" ("id") DEFERRABLE INITIALLY DEFERRED, "voucher_id" bigint NOT NULL REFERENCES "shop_voucher" ("id") DEFERRABLE INITIALLY DEFERRED);
INSERT INTO "new__shop_product_coupons" ("id", "voucher_id", "product_id") SELECT "id", "coupon_id", "product_id" FROM "shop_product_coupons";
DROP TABLE "shop_product_coupons";
ALTER TABLE "new__shop_product_coupons" RENAME TO "shop_product_coupons";
CREATE UNIQUE INDEX "shop_product_coupons_product_id_voucher_id_b12d1a6b_uniq" ON "shop_product_coupons" ("product_id", "voucher_id");
CREATE INDEX "shop_product_coupons_product_id_283549c2" ON "shop_product_coupons" ("product_id");
CREATE INDEX "shop_product_coupons_voucher_id_f3189116" ON "shop_product_coupons" ("voucher_id");
--
-- Rename field code on product to sku
--
ALTER TABLE "shop_product" RENAME COLUMN "code" TO "sku";
COMMIT;
