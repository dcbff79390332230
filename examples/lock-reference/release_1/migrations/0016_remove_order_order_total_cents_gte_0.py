from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0015_order_order_total_cents_gte_0'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='order',
            name='order_total_cents_gte_0',
        ),
    ]
