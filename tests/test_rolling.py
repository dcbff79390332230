"""lab.rolling: instances replaced one at a time, failures told per release and per phase.

Run on remove-a-field's releases: release 2 drops NOT NULL from the column its code no longer writes, release
2_unsafe drops the column, which release 1 still uses. What each order of a deploy does to the requests is the
claim of guides (remove-a-field, deploy-migrations-first), tested there on every engine; these tests check the verb
itself, on PostgreSQL.
"""

import pytest

from lab.releases import example_module
from lab.rolling import AFTER, FIRST, NO_MIGRATION, RollingReport, replaced, rolling_update, shares
from lab.story import Story
from lab.workload import Traffic

demo = example_module("remove-a-field", "demonstration")
ROWS = 1_000
pytestmark = pytest.mark.rolls
INSTANCES = 4
ROLLOUT = [replaced(index, INSTANCES) for index in range(1, INSTANCES + 1)]


def updated(engine, new_database, new, migrate_when=FIRST) -> RollingReport:
    database = new_database(engine)
    demo.products_table(database, ROWS, Story(quiet=True))
    return rolling_update(demo.RELEASE_1, new, database, instances=INSTANCES, migrate_when=migrate_when, step=0.3)


def test_the_sites_clients_are_shared_between_the_instances():
    assert shares(Traffic(4, 4), 4) == [Traffic(1, 1)] * 4
    assert [(t.readers, t.writers) for t in shares(Traffic(5, 3), 2)] == [(3, 2), (2, 1)]
    assert all(t.readers + t.writers >= 1 for t in shares(Traffic(1, 1), 4))
    with pytest.raises(ValueError, match="one instance at least"):
        shares(Traffic(), 0)


def test_an_additive_change_migrated_first_fails_nothing_while_both_releases_serve(postgresql_engine, new_database):
    report = updated(postgresql_engine, new_database, demo.RELEASE_2)
    requests = report.requests_by_phase()
    assert report.migration.ok and not report.failures_by_phase(), report.summary()
    assert [phase.name for phase in report.phases] == ["before", "migration", *ROLLOUT, AFTER]
    # Between two replacements both releases serve; once the last is replaced, only the new one.
    for phase in ROLLOUT[:-1]:
        assert requests["release_1", phase] and requests["release_2", phase], report.summary()
    assert requests["release_2", AFTER] and not requests["release_1", AFTER], report.summary()


def test_an_unknown_order_is_refused(postgresql_engine, new_database):
    with pytest.raises(ValueError, match="migrate_when"):
        rolling_update(demo.RELEASE_1, demo.RELEASE_2, new_database(postgresql_engine), migrate_when="sometime")


def test_a_failed_migration_stops_the_rollout(postgresql_engine, new_database):
    database = new_database(postgresql_engine)
    demo.products_table(database, ROWS, Story(quiet=True))
    with database.connect() as connection:  # the generated migration drops this table: make it fail there
        connection.cursor().execute(f"DROP TABLE {demo.GONE_TABLE}")
    report = rolling_update(demo.RELEASE_1, demo.UNSAFE, database, instances=INSTANCES, step=0.3)
    assert not report.migration.ok
    assert [phase.name for phase in report.phases] == ["before", "migration", AFTER], report.summary()
    assert not report.new.samples and report.old.samples, report.summary()


def test_code_rolled_back_without_a_migration_runs_none(postgresql_engine, new_database):
    database = new_database(postgresql_engine)
    demo.products_table(database, ROWS, Story(quiet=True))
    forwards = rolling_update(demo.RELEASE_1, demo.RELEASE_2, database, instances=2, step=0.2)
    back = rolling_update(demo.RELEASE_2, demo.RELEASE_1, database, instances=2, step=0.2,
                          migrate_when=NO_MIGRATION, watch_tables=[demo.TABLE])
    assert forwards.migrated and not back.migrated
    assert [phase.name for phase in back.phases] == ["before", replaced(1, 2), replaced(2, 2), AFTER]
    figures = back.figures(demo.TABLE)
    assert figures["migration_ms"] is None and figures["lock_modes"] is None and figures["instances"] == 2
    assert sum(row["new_requests"] for row in figures["phases"]) == back.new.operations > 0
    assert not back.failures, back.summary()


def test_locks_are_watched_while_the_migration_runs(postgresql_engine, new_database):
    database = new_database(postgresql_engine)
    demo.products_table(database, ROWS, Story(quiet=True))
    report = rolling_update(demo.RELEASE_1, demo.UNSAFE, database, instances=2, step=0.2,
                            watch_tables=[demo.TABLE, demo.GONE_TABLE])
    figures = report.figures(demo.TABLE)
    assert report.locks is not None and figures["migration_ms"] >= 0
    assert figures["old_release_failures"] == sum(row["old_failed"] for row in figures["phases"]) > 0
