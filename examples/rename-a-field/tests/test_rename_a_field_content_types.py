"""The claims of guides/rename-a-field.md about the rows Django's contrib apps keep on a model: its content type
and the permissions on it, when the model is renamed in Django only."""

import json

from lab.claims import check
from lab.deploy import migrate
from lab.releases import example_module

demo = example_module("rename-a-field", "demonstration")
GUIDE = demo.SLUG

# Run in a process of release 1: a clerk who may change coupons, and a helper who may view them through a group.
GRANT = """
import django
django.setup()
from django.contrib.auth.models import Group, Permission, User
clerk = User.objects.create_user("clerk")
clerk.user_permissions.add(Permission.objects.get(content_type__app_label="shop", codename="change_coupon"))
helpers = Group.objects.create(name="helpers")
helpers.permissions.add(Permission.objects.get(content_type__app_label="shop", codename="view_coupon"))
User.objects.create_user("helper").groups.add(helpers)
"""
# Run in a process of a release: the content type its code finds for a model, and who may do what.
SEEN = """
import json, sys
import django
django.setup()
from django.apps import apps
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
model, perms = sys.argv[1], sys.argv[2:]
print(json.dumps({
    "content_type": ContentType.objects.get_for_model(apps.get_model("shop", model)).id,
    "shop_models": sorted(ContentType.objects.filter(app_label="shop").values_list("model", flat=True)),
    "clerk": [User.objects.get(username="clerk").has_perm(perm) for perm in perms],
    "helper": [User.objects.get(username="helper").has_perm(perm) for perm in perms],
}))
"""


def seen(release, database, model: str, *perms: str) -> dict:
    run = release.run_python(SEEN, model, *perms, database=database)
    assert run.ok, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def at_release_1_with_grants(engine, new_database):
    """A database at release 1 with permissions on coupons granted, and the coupon's content type (its id)."""
    database = new_database(engine)
    assert migrate(demo.RELEASE_1, database).ok
    granted = demo.RELEASE_1.run_python(GRANT, database=database)
    assert granted.ok, granted.stderr
    return database, seen(demo.RELEASE_1, database, "Coupon")["content_type"]


def test_the_content_type_and_the_permissions_follow_the_renamed_model(engine, new_database):
    def renamed_with(release) -> dict:
        database, coupon = at_release_1_with_grants(engine, new_database)
        assert migrate(release, database).ok
        found = seen(release, database, "Voucher", "shop.change_voucher", "shop.view_voucher")
        return {**found, "same": found["content_type"] == coupon,
                "release_1": seen(demo.RELEASE_1, database, "Coupon", "shop.change_coupon")["clerk"]}

    check("with the content type moved in the migration, the voucher keeps the coupon's content type, no coupon "
          "content type is left, whoever could change or view coupons can change or view vouchers, and release 1's "
          "checks still pass", lambda found: found["same"] and "coupon" not in found["shop_models"]
          and found["clerk"] == [True, False] and found["helper"] == [False, True] and found["release_1"] == [True],
          renamed_with(demo.DB_COLUMN), contrast="the rename in SeparateDatabaseAndState alone",
          against=lambda: renamed_with(demo.DB_COLUMN_BARE), observed=str, guide=GUIDE, engine=engine)


def test_release_1_makes_a_new_coupon_content_type_in_a_process_that_looks_it_up_after_the_migration(
        engine, new_database):
    def looked_up(migrated: bool) -> dict:
        database, coupon = at_release_1_with_grants(engine, new_database)
        if migrated:
            assert migrate(demo.DB_COLUMN, database).ok
        found = seen(demo.RELEASE_1, database, "Coupon")
        return {**found, "same": found["content_type"] == coupon}

    check("a process of release 1 that looks up the coupon's content type after the migration makes a new one",
          lambda found: not found["same"] and "coupon" in found["shop_models"], looked_up(True),
          contrast="the same lookup before the migration", against=lambda: looked_up(False), observed=str,
          guide=GUIDE, engine=engine)
