# Release 4 as it would be without release 3: Django's state forgets code while the column is still NOT NULL, so
# release 4's inserts, which leave code out, fail (guides/rename-a-field.md). The contrast of the tests, not a recipe.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0002_product_sku'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='product',
                    name='code',
                ),
            ],
        ),
    ]
