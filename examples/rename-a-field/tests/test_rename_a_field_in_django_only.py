"""The claims of guides/rename-a-field.md about the rename in Django only, checked on real engines.

A file of its own, so that pytest-xdist runs its rollouts beside those of the guide's other tests.
"""

import pytest

from lab.claims import check
from lab.releases import example_module
from lab.rolling import RollingReport
from lab.story import Story

demo = example_module("rename-a-field", "demonstration")
GUIDE = demo.SLUG
QUIET = Story(quiet=True)


@pytest.fixture(scope="module")
def renames(engine, module_databases):
    """The rename in Django only rolled out over release 1, with the join table named in Django and without."""
    def rolled_out(release) -> RollingReport:
        database = module_databases(engine)
        demo.products_table(database, QUIET)
        return demo.roll_out(database, demo.RELEASE_1, release, QUIET)

    return {"db_column": rolled_out(demo.DB_COLUMN), "db_column_bare": rolled_out(demo.DB_COLUMN_BARE)}


@pytest.mark.rolls
def test_renaming_in_django_only_fails_no_request(renames, engine):
    check("renamed in Django only (db_column, db_table, the join table named), the rollout fails no request of "
          "either release",
          lambda r: r.migration.ok and r.old.operations > 0 and r.new.operations > 0 and not r.failures,
          renames["db_column"], contrast="the same rename with the join table left to Django",
          against=lambda: renames["db_column_bare"], observed=RollingReport.summary, guide=GUIDE, engine=engine)


@pytest.mark.rolls
def test_the_join_table_left_to_django_fails_release_2_on_the_column_it_expects(renames, engine):
    def new_fails_on_voucher_id(report):
        new = report.new.release  # the release rolled out, whichever it is
        return (report.migration.ok and report.failures.get(new, 0) > 0
                and "voucher_id" in str(report.errors(new)).lower())

    check("renamed in Django only with the table Django made for Product.coupons left unnamed, release 2's queries "
          "of it fail on a voucher_id column the database does not have", new_fails_on_voucher_id,
          renames["db_column_bare"], contrast="the join table named in Django (ProductCoupon)",
          against=lambda: renames["db_column"], observed=RollingReport.summary, guide=GUIDE, engine=engine)
