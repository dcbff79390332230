"""``manage.py rehearse`` on the handbook's own examples: every unsafe release is flagged, with the page whose
recipe fixes it, and every safe release passes.

Each case is a deploy a guide shows: the database as the release before left it, filled the way the guide's
demonstration fills it, then ``rehearse`` run by the new release on it. Locks are judged against a budget scaled
to the rows (the unsafe statements' long locks take tens of milliseconds here, as they take seconds on tables a
hundred times larger); failures of the serving code do not depend on size.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from handbook_rehearse import pages
from lab import verbs
from lab.claims import check
from lab.releases import Release, example_module
from lab.story import Story

GUIDE = "rehearse-on-production-like-data"
QUIET = Story(quiet=True)
ROWS = 300_000  # enough that each long lock of an unsafe release outlasts BUDGET several times over
BUDGET = "0.04"  # seconds: the lock budget the cases are judged against
# The wait budget: five times the lock budget. A request can wait longer than any lock is held, queued behind a
# statement that itself waits for the transactions in flight; on a busy machine that queue alone passed 40 ms.
WAIT_BUDGET = "0.2"
SETTLE = "0.15"


@dataclass(frozen=True)
class Case:
    """A deploy of a guide: prepare the database as release ``old`` leaves it, rehearse ``new`` on it."""

    slug: str
    new: str
    prepare: Callable[[object, int, Story], None]
    page: pages.Page | None  # the page the finding must link, None when the release must pass
    rows: int = ROWS

    @property
    def id(self) -> str:
        return f"{self.slug}:{self.new}"

    @property
    def release(self) -> Release:
        return Release(self.slug, self.new)


def filled(slug: str, chain: list[str], table: str, columns: Callable[[str], dict] | dict):
    """Migrate ``chain``'s releases in order, filling ``table`` after the first with ``columns`` (SQL of i)."""
    def prepare(database, rows: int, story: Story) -> None:
        values = columns(database.engine.vendor) if callable(columns) else columns
        verbs.filled_table(database, [Release(slug, name) for name in chain], table, values, rows, story)
    return prepare


def demo(slug: str):
    return example_module(slug, "demonstration")


def demo_step(slug: str, function: str, *args):
    def prepare(database, rows: int, story: Story) -> None:
        getattr(demo(slug), function)(database, *args, rows, story)
    return prepare


def release_2_filled(database, rows: int, story: Story) -> None:
    demo("add-a-column-and-fill-it").filled_release_2_table(database, rows, story)


def constraint_table(database, rows: int, story: Story) -> None:
    """Release 2's orders, their negative totals fixed by its command, as the guide has it before release 3."""
    module = demo("add-a-constraint")
    module.table(database, [module.RELEASE_1, module.RELEASE_2], rows, story)
    fixed = module.RELEASE_2.run("fix_negative_totals", database=database)
    assert fixed.ok, fixed.stderr


def column_type_table(database, rows: int, story: Story) -> None:
    module = demo("change-a-column-type")
    module.table(database, [module.RELEASE_1], rows, story)


def orders_and_customers(database, rows: int, story: Story) -> None:
    demo("add-a-foreign-key").tables(database, rows, story)


def weights_filled(database, rows: int, story: Story) -> None:
    """Release 2 of two-releases-for-rolling-updates, its missing weights filled by its command: before release 3."""
    module = demo("two-releases-for-rolling-updates")
    filled(module.SLUG, ["release_1", "release_2"], module.TABLE, module.COLUMNS)(database, rows, story)
    done = module.RELEASE_2.run(module.FILL_COMMAND, "--grams", str(module.GRAMS), database=database)
    assert done.ok, done.stderr


def table_of(slug: str, *chain: str):
    """The guide's table filled after its first release, migrated through ``chain`` (release_1 by default)."""
    module = demo(slug)
    return filled(slug, list(chain or ["release_1"]), module.TABLE, module.COLUMNS)


def guide_orders(database, rows: int, story: Story) -> None:
    demo(GUIDE).orders_table(database, rows, story)


LARGER = 600_000
INDEX = "add-index-concurrently"
COLUMN = "add-a-column-and-fill-it"
# Unsafe for a lock held too long: judged against a budget, so timed on a quiet machine (marked measures).
LOCK_CASES = [
    # This guide's own example: an index as makemigrations wrote it and a nullable field; then the index edited.
    Case(GUIDE, "release_2", guide_orders, pages.INDEX),
    Case(GUIDE, "release_2_edited", guide_orders, None),
    Case(INDEX, "release_2_unsafe", filled(INDEX, ["release_1"], "shop_order", demo(INDEX).COLUMNS), pages.INDEX),
    Case(INDEX, "release_2", filled(INDEX, ["release_1"], "shop_order", demo(INDEX).COLUMNS), None),
    Case("add-a-foreign-key", "release_2_unsafe", orders_and_customers, pages.FOREIGN_KEY),
    Case("add-a-foreign-key", "release_2", orders_and_customers, None),
    Case("add-a-constraint", "release_3_generated", constraint_table, pages.CONSTRAINT),
    Case("add-a-constraint", "release_3", constraint_table, None),
    Case("change-a-column-type", "release_2_generated", column_type_table, pages.COLUMN_TYPE),
    Case("change-a-column-type", "release_2", column_type_table, None),
    Case(COLUMN, "release_2_volatile", table_of(COLUMN), pages.ADD_AND_FILL),
    Case(COLUMN, "release_2_db_default", table_of(COLUMN), None),
    # SET NOT NULL's scan is quick: on a larger table it outlasts the budget as clearly.
    Case(COLUMN, "release_3_unsafe", release_2_filled, pages.ADD_AND_FILL, LARGER),
    Case(COLUMN, "release_3", release_2_filled, None, LARGER),
]
# Unsafe because running code fails: whatever the size and the budget.
SMALL = 10_000
FAILURE_CASES = [
    Case(COLUMN, "release_2_default_only", table_of(COLUMN), pages.ADD_AND_FILL, SMALL),
    Case(COLUMN, "release_2", table_of(COLUMN), None, SMALL),
    Case("deploy-migrations-first", "release_2_required", table_of("deploy-migrations-first"), pages.ADD_AND_FILL,
         SMALL),
    Case("deploy-migrations-first", "release_2", table_of("deploy-migrations-first"), None, SMALL),
    Case("go-forwards-only", "release_3_drop", table_of("go-forwards-only", "release_1", "release_2"), pages.REMOVE,
         SMALL),
    Case("go-forwards-only", "release_3_state_only", table_of("go-forwards-only", "release_1", "release_2"), None,
         SMALL),
    Case("remove-a-field", "release_2_unsafe", table_of("remove-a-field"), pages.REMOVE, SMALL),
    Case("remove-a-field", "release_2_keeps_not_null", table_of("remove-a-field"), pages.REMOVE, SMALL),
    Case("remove-a-field", "release_2", table_of("remove-a-field"), None, SMALL),
    Case("remove-a-field", "release_3", table_of("remove-a-field", "release_1", "release_2"), None, SMALL),
    Case("rename-a-field", "release_2_unsafe", table_of("rename-a-field"), pages.RENAME, SMALL),
    Case("rename-a-field", "release_2_db_column", table_of("rename-a-field"), None, SMALL),
    Case("rename-a-field", "release_2_expand", table_of("rename-a-field"), None, SMALL),
    Case("two-releases-for-rolling-updates", "release_2_one_release", table_of("two-releases-for-rolling-updates"),
         pages.TWO_RELEASES, SMALL),
    Case("two-releases-for-rolling-updates", "release_3", weights_filled, None, SMALL),
]
CASES = LOCK_CASES + FAILURE_CASES
_reports: dict[tuple[str, str], dict] = {}  # (engine id, case id): its report, so a contrast reuses a case's run


def report_of(case: Case, engine, budget: str, new_database, wait: str | None = None) -> dict:
    """``rehearse``'s JSON report of ``case`` on ``engine`` (run once per process and budgets); the wait budget is
    ``wait``, or ``budget`` if None."""
    key = (engine.id, case.id, budget, wait)
    if key not in _reports:
        database = new_database(engine)
        case.prepare(database, case.rows, QUIET)
        # As the guide says of a restored copy: vacuumed and analyzed first, so that autovacuum, woken by the
        # preparation's fills and updates, does not hold the table while the migration asks for its lock.
        vacuumed(database)
        run = case.release.run("rehearse", "--noinput", "--max-lock", budget, "--max-wait", wait or budget,
                               "--settle", SETTLE, "--json", "-", database=database)
        assert run.returncode in (0, 1), f"rehearse could not run:\n{run.stderr}"
        assert ("Rehearsing 1 of" in run.stderr) == bool(json.loads(run.stdout)["migrations"]), run.stderr
        _reports[key] = json.loads(run.stdout)
    return _reports[key]


def findings(report: dict) -> list[dict]:
    return [finding for migration in report["migrations"] for finding in migration["findings"]]


def vacuumed(database) -> None:
    if database.engine.vendor == "postgresql":
        with database.connect() as connection:  # autocommit: VACUUM runs outside a transaction
            connection.cursor().execute("VACUUM (ANALYZE)")


def pages_linked(report: dict, rules: set[str] | None = None) -> set[str]:
    """The pages the findings link (those of ``rules`` only, if given)."""
    return {f["page"] for f in findings(report) if rules is None or f["rule"] in rules}


def judged(case: Case, cases: list[Case], engine, budget: str, new_database, rules: set[str],
           wait: str | None = None) -> None:
    """Claim that ``case`` is flagged by a finding of ``rules`` that links its page, or passes; the contrast is a
    case of the same guide that is expected the other way."""
    contrast = next(c for c in cases if c.slug == case.slug and (c.page is None) != (case.page is None))
    report = report_of(case, engine, budget, new_database, wait)
    shown = lambda r: [f"{f['rule']}: {f['message']} -> {f['page']}" for f in findings(r)]  # noqa: E731
    if case.page is None:
        check(f"rehearse passes {case.id}", lambda r: r["passed"] and not findings(r), report,
              contrast=contrast.id, against=lambda: report_of(contrast, engine, budget, new_database, wait),
              observed=shown, guide=GUIDE, engine=engine)
    else:
        check(f"rehearse flags {case.id} ({' or '.join(sorted(rules))}) and links {case.page.path}",
              lambda r: not r["passed"] and case.page.path in pages_linked(r, rules), report,
              contrast=contrast.id, against=lambda: report_of(contrast, engine, budget, new_database, wait),
              observed=shown, guide=GUIDE, engine=engine)


@pytest.mark.measures
@pytest.mark.parametrize("case", LOCK_CASES, ids=lambda case: case.id)
def test_rehearse_judges_the_locks_of_each_release(case, embedded_postgresql_engine, new_database):
    judged(case, LOCK_CASES, embedded_postgresql_engine, BUDGET, new_database, {"lock", "wait"}, WAIT_BUDGET)


@pytest.mark.parametrize("case", FAILURE_CASES, ids=lambda case: case.id)
def test_rehearse_judges_whether_running_code_survives_each_release(case, embedded_postgresql_engine, new_database):
    # A budget no lock here comes near: only failures count.
    judged(case, FAILURE_CASES, embedded_postgresql_engine, "10", new_database, {"failure"})
    if case.new == "release_2_keeps_not_null":  # caught once applied, by the new release's inserts
        report = report_of(case, embedded_postgresql_engine, "10", new_database)
        assert any("ship with failed" in f["message"] for f in findings(report)), findings(report)
