"""The claim of guides/two-releases-for-rolling-updates.md about an old background worker, checked on the live site.

A file of its own: its deploys take tens of seconds, which pytest-xdist can then run beside the guide's other tests.
"""

from types import SimpleNamespace

import pytest

from lab.claims import check
from lab.releases import example_module
from lab.story import Story

demo = example_module("two-releases-for-rolling-updates", "demonstration")
GUIDE = demo.SLUG
QUIET = Story(quiet=True)

@pytest.fixture(scope="module")
def with_workers(engine, module_databases, real_site):
    """Both releases on the real site with release 1's background worker writing on after the web moved to release
    2: replaced before the fill is run again and release 3 migrated, or left running through release 3's migration."""
    if engine.vendor != "postgresql":
        return None
    found = {}
    for label, first in (("worker_replaced", True), ("worker_left", False)):
        database = module_databases(engine)
        demo.products_table(database, QUIET)
        report, runs = demo.with_an_old_worker(database, QUIET, replace_worker_first=first)
        found[label] = SimpleNamespace(report=report, runs=runs, missing=demo.missing_weights(database))
    return found


def worker_summary(outcome) -> str:
    said = "\n".join(f"{name}: exit {run.returncode}: {(run.stdout + run.stderr).strip()[-300:]}"
                     for name, run in outcome.runs.items())
    return f"{said}\n{outcome.report.summary()}\nproducts with no weight: {outcome.missing}"


@pytest.mark.rolls
def test_the_fill_says_when_an_old_worker_still_writes_and_release_3_waits_for_it(with_workers, live_site_engine):
    def clean(outcome) -> bool:
        figures = outcome.report.figures()
        return (outcome.runs["schema"].ok and outcome.missing == 0 and figures["worker_failures"] == 0
                and figures["old_worker_writes"] > 0)

    check("with release 1's worker replaced before the fill is run again, release 3's NOT NULL goes through and no "
          "write of any worker fails", clean, with_workers["worker_replaced"],
          contrast="release 3 migrated while release 1's worker still writes", against=lambda: with_workers["worker_left"],
          observed=worker_summary, guide=GUIDE, engine=live_site_engine)
    # Left running, the old worker meets the CHECK the failed migration's first step added, NOT VALID but enforced
    # on new rows: its inserts fail from then on.
    left = with_workers["worker_left"]
    errors = str(left.report.workers[0].errors)
    assert not left.runs["schema"].ok and left.report.figures()["worker_failures"] > 0 \
        and "weight_grams_not_null_check" in errors, worker_summary(left)
    for outcome in with_workers.values():
        # The first fill ran while release 1's worker still added products without a weight, and said so.
        first = outcome.runs["fill"]
        assert not first.ok and "still have no weight" in first.stderr, worker_summary(outcome)
