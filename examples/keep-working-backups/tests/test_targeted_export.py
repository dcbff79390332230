"""lab.backups' targeted export, which the guide's drill runs: what its files carry back, on every engine.

Not claims of the guide: the tools the claims rest on. Values a client tool could mangle (tabs, newlines, backslashes,
quotes, commas, text beyond ASCII, an empty string, a NULL) come back as they were, checked by the same digest the
drill compares; a load never goes over a table that is there.
"""

import pytest

from lab import backups
from lab.engines import Database

ROWS = [
    (1, "plain"), (2, "tab\there"), (3, "new\nline"), (4, "back\\slash"), (5, "it's"), (6, '"quoted",comma'),
    (7, "é€😀"), (8, ""), (9, None), (10, "\\N"),
]
COLUMNS = {"id": "bigint PRIMARY KEY", "code": "varchar(20)"}


def _table(database: Database, rows: list[tuple]) -> None:
    marker = "?" if database.engine.vendor == "sqlite" else "%s"
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute("CREATE TABLE live (id integer PRIMARY KEY, code varchar(20), other integer)")
        for row in rows:
            cursor.execute(f"INSERT INTO live (id, code, other) VALUES ({marker}, {marker}, 7)", row)


def test_an_export_loaded_back_holds_the_same_rows(engine, new_database, tmp_path):
    live, kept = new_database(engine), new_database(engine)
    _table(live, ROWS)
    path = tmp_path / f"live{backups.EXPORT_SUFFIXES[engine.vendor]}"
    taken = backups.export_rows(live, "live", ["id", "code"], path)
    assert taken.bytes > 0
    backups.load_rows(taken.path, kept, "kept", COLUMNS)
    assert backups.digest(kept, "kept", ["id", "code"]) == backups.digest(live, "live", ["id", "code"])
    assert backups.digest(kept, "kept", ["id", "code"]).rows == len(ROWS)


def test_only_the_rows_the_where_keeps_are_exported(engine, new_database, tmp_path):
    live, kept = new_database(engine), new_database(engine)
    _table(live, ROWS)
    path = tmp_path / f"live{backups.EXPORT_SUFFIXES[engine.vendor]}"
    backups.export_rows(live, "live", ["id", "code"], path, where="code IS NOT NULL")
    backups.load_rows(path, kept, "kept", {"id": "bigint PRIMARY KEY", "code": "varchar(20) NOT NULL"})
    found = backups.digest(kept, "kept", ["id", "code"])
    assert found == backups.digest(live, "live", ["id", "code"], where="code IS NOT NULL")
    assert found.rows == len(ROWS) - 1


def test_a_text_null_is_told_apart_by_the_digest_where_the_file_cannot_keep_it(engine, new_database, tmp_path):
    """MariaDB's client writes a NULL and the text 'NULL' alike: the load reads both back as NULL, and the digest
    against the live rows says so. The other engines' files keep them apart."""
    live, kept = new_database(engine), new_database(engine)
    _table(live, [(1, "NULL"), (2, None)])
    path = tmp_path / f"live{backups.EXPORT_SUFFIXES[engine.vendor]}"
    backups.export_rows(live, "live", ["id", "code"], path)
    backups.load_rows(path, kept, "kept", COLUMNS)
    same = backups.digest(kept, "kept", ["id", "code"]) == backups.digest(live, "live", ["id", "code"])
    assert same is (engine.vendor != "mysql")


def test_a_load_never_goes_over_a_table_that_is_there(engine, new_database, tmp_path):
    live = new_database(engine)
    _table(live, ROWS)
    path = tmp_path / f"live{backups.EXPORT_SUFFIXES[engine.vendor]}"
    backups.export_rows(live, "live", ["id", "code"], path)
    before = backups.digests(live, ["live"])
    with pytest.raises(Exception, match="(?i)already exists"):
        backups.load_rows(path, live, "live", COLUMNS)
    assert backups.digests(live, ["live"]) == before


def test_an_export_without_its_key_is_refused(engine, new_database, tmp_path):
    live = new_database(engine)
    _table(live, ROWS[:1])
    with pytest.raises(ValueError, match="key"):
        backups.export_rows(live, "live", ["code"], tmp_path / "codes")
