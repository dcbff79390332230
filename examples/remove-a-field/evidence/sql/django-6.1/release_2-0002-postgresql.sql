BEGIN;
--
-- Custom state/database change combination
--
ALTER TABLE "shop_product" ALTER COLUMN "legacy_code" DROP NOT NULL;
COMMIT;
