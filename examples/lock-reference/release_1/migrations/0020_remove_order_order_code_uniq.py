from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0019_order_order_code_uniq'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='order',
            name='order_code_uniq',
        ),
    ]
