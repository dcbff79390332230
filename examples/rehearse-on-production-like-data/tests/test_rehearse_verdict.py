"""The rehearsal's verdict on observations the engines make only now and then: a deadlock, a long lock followed
by a stronger brief one, lock modes that cannot be seen. The command's runs on real engines are in the other
tests of this folder."""

from types import SimpleNamespace

from django.db import migrations, models

from handbook_rehearse import pages
from handbook_rehearse.plan import Step
from handbook_rehearse.verdict import Budget, Rehearsed, judge
from handbook_rehearse.watch import Observation, Statement
from handbook_rehearse.workload import SERVING, Request

INDEX = 'CREATE INDEX "order_customer_idx" ON "shop_order" ("customer_id")'


def rehearsed(operations, statements, requests=(), locks=(), visible=True) -> Rehearsed:
    migration = SimpleNamespace(app_label="shop", name="0002_x", operations=operations, atomic=True)
    observation = Observation(statements=list(statements), lock_modes_visible=visible)
    for table, mode, first, last in locks:
        observation.saw(table, mode, first)
        observation.saw(table, mode, last)
    return Rehearsed(Step(migration, [s.sql for s in statements]), observation, 0.0, 2.0, requests=list(requests))


ADD_INDEX = [migrations.AddIndex("order", models.Index(fields=["customer_id"], name="order_customer_idx"))]


def test_a_request_that_fails_on_a_deadlock_links_the_statement_that_ran_not_the_schema():
    deadlock = Request(SERVING, "update", "shop.Order", 0.5, 0.6,
                       "OperationalError: (1213, 'Deadlock found when trying to get lock; try restarting transaction')")
    found = judge(rehearsed(ADD_INDEX, [Statement(INDEX, 0.1, 1.9)], [deadlock]), Budget())
    assert [(f.rule, f.page) for f in found] == [("failure", pages.INDEX)]
    assert "failed on a lock" in found[0].message


def test_a_request_that_fails_on_the_schema_links_the_operations_page():
    missing = Request(SERVING, "read", "shop.Product", 0.5, 0.6, 'ProgrammingError: column "code" does not exist')
    found = judge(rehearsed([migrations.RemoveField("product", "code")], [Statement("ALTER TABLE x DROP COLUMN code",
                                                                                    0.1, 0.2)], [missing]), Budget())
    assert [(f.rule, f.page) for f in found] == [("failure", pages.REMOVE)]


def test_a_long_share_lock_is_judged_even_when_a_brief_stronger_one_follows():
    found = judge(rehearsed(ADD_INDEX, [Statement(INDEX, 0.1, 1.9)],
                            locks=[("shop_order", "SHARE", 0.1, 1.9), ("shop_order", "ACCESS EXCLUSIVE", 1.9, 1.91)]),
                  Budget(max_lock=1.0))
    assert [(f.rule, f.page) for f in found] == [("lock", pages.INDEX)]
    assert found[0].message.startswith("SHARE on shop_order blocked writes")


def test_lock_modes_that_cannot_be_seen_fail_the_lock_rule():
    found = judge(rehearsed(ADD_INDEX, [Statement(INDEX, 0.1, 0.2)], visible=False), Budget())
    assert [(f.rule, f.page) for f in found] == [("lock", pages.REHEARSE)]


def test_brief_locks_and_short_waits_pass():
    quick = Request(SERVING, "update", "shop.Order", 0.1, 0.105)
    found = judge(rehearsed(ADD_INDEX, [Statement(INDEX, 0.1, 0.15)], [quick],
                            locks=[("shop_order", "SHARE", 0.1, 0.15)]), Budget())
    assert found == []


def test_requests_queued_behind_a_migration_waiting_for_its_lock_link_the_lock_timeout_page():
    queued = Request(SERVING, "read", "shop.Customer", 0.1, 0.45)
    found_in = rehearsed(ADD_INDEX, [Statement('ALTER TABLE "shop_customer" ADD CONSTRAINT "c" CHECK (x) NOT VALID',
                                               0.1, 0.44)], [queued])
    for look in range(10, 44):  # seen waiting for its lock, look after look, from 0.10 s to 0.43 s
        found_in.observation.waited("ACCESS EXCLUSIVE on shop_customer", look / 100)
    found = judge(found_in, Budget(max_wait=0.1))
    assert [(f.rule, f.page) for f in found] == [("wait", pages.LOCK_TIMEOUT)]
    assert "the migration itself waited" in found[0].message
