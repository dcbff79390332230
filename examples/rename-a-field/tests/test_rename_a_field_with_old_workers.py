"""The claim of guides/rename-a-field.md about old code beyond the web, checked on the live site.

A file of its own: its deploys take tens of seconds, which pytest-xdist can then run beside the guide's other tests.
"""

import pytest

from lab.claims import check
from lab.releases import example_module
from lab.story import Story

demo = example_module("rename-a-field", "demonstration")
GUIDE = demo.SLUG
QUIET = Story(quiet=True)

@pytest.fixture(scope="module")
def live_copies(engine, module_databases, real_site):
    """The copy run while release 2 serves on the real site and release 1's worker still writes, then again once the
    worker is replaced: the handbook's copy, and the copy of the rows whose sku is NULL."""
    if engine.vendor != "postgresql":
        return None
    found = {}
    for label, release in (("copy_live", demo.EXPAND), ("copy_live_missing", demo.COPY_MISSING)):
        database = module_databases(engine)
        demo.products_table(database, QUIET)
        found[label] = demo.copy_with_old_code_running(database, QUIET, release)
    return found


def live_summary(outcome) -> str:
    report, copies, differing = outcome
    said = "\n".join(f"copy exit {run.returncode}: {(run.stdout + run.stderr).strip()[-300:]}" for run in copies)
    return f"{said}\n{report.summary()}\nproducts whose sku is not their code: {differing}"


@pytest.mark.rolls
def test_the_copy_with_an_old_worker_still_writing_loses_no_write_once_run_again(live_copies, live_site_engine):
    def nothing_lost(outcome) -> bool:
        report, copies, differing = outcome
        old_worker = report.workers[0]
        return differing == 0 and copies[-1].ok and old_worker.release == demo.RELEASE_1.name \
            and old_worker.operations > 0

    check("release 1's worker writes on while release 2 serves and the copy runs; once it is replaced, the copy run "
          "again leaves no product whose sku differs from its code", nothing_lost, live_copies["copy_live"],
          contrast="a copy of only the rows whose sku is still NULL", against=lambda: live_copies["copy_live_missing"],
          observed=live_summary, guide=GUIDE, engine=live_site_engine)
    first, _ = live_copies["copy_live"][1]
    # The first run, with old code still writing, says that rows still differ, and fails.
    assert not first.ok and "still differ" in first.stderr, live_summary(live_copies["copy_live"])
    # The copy of NULLs reports success both times, with stale rows left: nothing tells the deploy.
    _, naive, stale = live_copies["copy_live_missing"]
    assert all(run.ok for run in naive) and stale > 0, live_summary(live_copies["copy_live_missing"])
