"""Read a table's schema straight from the database, outside Django."""

from __future__ import annotations

from .engines import Database


def indexes(database: Database, table: str) -> dict[str, bool]:
    """The table's index names, each with whether it is valid (usable by queries)."""
    vendor = database.engine.vendor
    with database.connect() as connection:
        cursor = connection.cursor()
        if vendor == "postgresql":
            cursor.execute(
                "SELECT i.relname, x.indisvalid FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                "JOIN pg_class t ON t.oid = x.indrelid WHERE t.relname = %s",
                (table,),
            )
            return dict(cursor.fetchall())
        if vendor == "mysql":
            cursor.execute(f"SHOW INDEX FROM {table}")
            return {row[2]: True for row in cursor.fetchall()}
        cursor.execute(f"PRAGMA index_list({table})")
        return {row[1]: True for row in cursor.fetchall()}


def columns(database: Database, table: str) -> set[str]:
    """The names of the table's columns."""
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute(f"SELECT * FROM {table} WHERE 1 = 0")
        return {column[0] for column in cursor.description}


def table_exists(database: Database, table: str) -> bool:
    """Whether the table is there."""
    try:
        columns(database, table)
    except Exception:  # each driver raises its own "no such table"
        return False
    return True
