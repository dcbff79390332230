BEGIN;
--
-- Raw SQL operation
--
ALTER TABLE "shop_product" ADD COLUMN "views_bigint" bigint NULL;
CREATE FUNCTION "shop_product_views_bigint"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW."views_bigint" := NEW."views"; RETURN NEW; END $$;
CREATE TRIGGER "shop_product_views_bigint" BEFORE INSERT OR UPDATE ON "shop_product" FOR EACH ROW EXECUTE FUNCTION "shop_product_views_bigint"();
COMMIT;
