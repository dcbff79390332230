# Written by hand: the index views will need, built concurrently on views_bigint while the site writes. Not atomic:
# CREATE INDEX CONCURRENTLY cannot run in a transaction. The build runs with no lock or statement timeout, then the
# session's own are back. Run again after a failure: a valid index a killed deploy finished is kept, an INVALID one
# a failed build left is dropped first. Nothing on other engines.

from django.db import migrations

from ..operations import IndexColumnConcurrently


class Migration(migrations.Migration):

    atomic = False

    dependencies = [
        ('shop', '0002_add_views_bigint'),
    ]

    operations = [
        IndexColumnConcurrently(table='shop_product', column='views_bigint', name='shop_product_views_bigint_idx'),
    ]
