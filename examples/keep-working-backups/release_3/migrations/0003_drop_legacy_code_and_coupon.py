# Written by hand: release 2 removed the field and the model from Django's state;
# now that no running code uses them, drop them from the database
# (guides/remove-a-field.md). No reverse_sql: the data is gone, so Django refuses
# to reverse it.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0002_delete_coupon_remove_product_legacy_code'),
    ]

    operations = [
        migrations.RunSQL("ALTER TABLE shop_product DROP COLUMN legacy_code"),
        migrations.RunSQL("DROP TABLE shop_coupon"),
    ]
