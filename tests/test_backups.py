"""lab.backups: a backup taken with each server's own tool, restored into a fresh database, gives back every row.

Run on remove-a-field's releases: release 3 drops a column and a table, the step a backup exists for.
"""

import dataclasses

import pytest

from lab import backups
from lab.deploy import migrate, run_sql
from lab.engines import EngineUnavailable
from lab.releases import example_module
from lab.story import Story

# Each server's own backup tool: the same on every Django, so the first leg alone runs it.
pytestmark = pytest.mark.once

demo = example_module("remove-a-field", "demonstration")
ROWS = 10_000
TABLES = [demo.TABLE, demo.GONE_TABLE]


def test_a_restored_backup_gives_back_every_row_the_drop_took(engine, new_database, tmp_path):
    database = new_database(engine)
    demo.products_table(database, ROWS, Story(quiet=True))
    assert run_sql(database, f"INSERT INTO {demo.GONE_TABLE} (code, percent_off) VALUES ('WELCOME', 10)").ok
    assert migrate(demo.RELEASE_2, database).ok
    before = backups.digests(database, TABLES)
    taken = backups.backup(database, tmp_path / "before-release-3")
    assert taken.bytes > 0 and taken.seconds > 0

    assert migrate(demo.RELEASE_3, database).ok  # drops the column and the table
    after_drop = backups.digests(database, TABLES)
    assert after_drop[demo.GONE_TABLE] is None and after_drop[demo.TABLE] != before[demo.TABLE]

    restored = new_database(engine)
    backups.restore(taken.path, restored)
    assert backups.digests(restored, TABLES) == before
    assert before[demo.TABLE].rows == ROWS and before[demo.GONE_TABLE].rows == 1


def test_a_postgresql_client_of_another_major_version_is_refused_by_name(postgresql_engine):
    future = dataclasses.replace(postgresql_engine, version="99.0")
    with pytest.raises(EngineUnavailable, match="no pg_dump of PostgreSQL 99 found"):
        backups.client_tool(future, "pg_dump")
    assert backups._major_of(backups.Path(backups.client_tool(postgresql_engine, "pg_dump"))) == \
        postgresql_engine.major


def test_a_mariadb_client_of_another_release_series_is_refused_by_name(mariadb_engine):
    future = dataclasses.replace(mariadb_engine, version="99.1.0")
    with pytest.raises(EngineUnavailable, match=r"the server is MariaDB 99\.1\.0: install MariaDB 99\.1's client"):
        backups.client_tool(future, "mariadb-dump")
    found = backups.client_tool(mariadb_engine, "mariadb-dump")
    assert backups._mariadb_series_of(backups.Path(found)) == ".".join(mariadb_engine.version.split(".")[:2])


def test_a_failed_restore_says_what_failed(postgresql_engine, new_database, tmp_path):
    broken = tmp_path / "not-a-backup"
    broken.write_text("this is not a pg_dump archive")
    with pytest.raises(RuntimeError, match="pg_restore failed"):
        backups.restore(broken, new_database(postgresql_engine))
