# Written by hand: release 4 removed the field from Django's state; now that no
# running code writes the column, drop it (guides/rename-a-field.md).
# No reverse_sql: the column's values are gone, so Django refuses to reverse it.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0004_remove_product_code'),
    ]

    operations = [
        migrations.RunSQL("ALTER TABLE shop_product DROP COLUMN code"),
    ]
