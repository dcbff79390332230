# Written by hand: the constraint, NOT VALID, on PostgreSQL. Django's state
# already has it (migration 0002), so makemigrations writes nothing here.

from django.db import migrations

from ..operations import AddForeignKeyNotValid


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0003_order_customer_idx'),
    ]

    operations = [
        AddForeignKeyNotValid(model_name='order', name='customer', constraint='order_customer_fk'),
    ]
