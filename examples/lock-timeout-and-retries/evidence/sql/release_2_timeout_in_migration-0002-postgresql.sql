BEGIN;
SET LOCAL lock_timeout = '500ms';
--
-- Add field note to order
--
ALTER TABLE "shop_order" ADD COLUMN "note" varchar(200) NULL;
COMMIT;
