"""Reading table locks, from the session that holds them or from another: every lock query of the instrument,
behind :mod:`.watch` (a live ``migrate``) and :mod:`.trace` (a migration's statements, one by one), and behind the
handbook's own watch of a deploy (who held what, who waited).

* PostgreSQL: ``pg_locks``, joined with ``pg_stat_activity`` for what a backend waits for. System catalogs are left
  out; indexes and sequences are kept (``kind`` says which is which).
* MariaDB: ``information_schema.METADATA_LOCK_INFO`` (the ``metadata_lock_info`` plugin) beside the session's
  state in ``PROCESSLIST``. Without the plugin, the state alone is read: a wait shows, a mode does not.

Each function takes a DB-API cursor (a driver's or Django's) and runs one query.
"""

from __future__ import annotations

from dataclasses import dataclass

from .lockmodes import sql_lock_name

CATALOGS = "('pg_catalog'::regnamespace, 'information_schema'::regnamespace)"
_NOT_CATALOG = f"l.relation NOT IN (SELECT oid FROM pg_class WHERE relnamespace IN {CATALOGS})"
_PG_LOCK = "l.locktype, l.relation::int8, COALESCE(l.relation::regclass::text, ''), COALESCE(c.relkind::text, ''), " \
           "l.mode, l.granted"
PG_OWN_LOCKS = f"""
SELECT {_PG_LOCK} FROM pg_locks l LEFT JOIN pg_class c ON c.oid = l.relation
WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND {_NOT_CATALOG}
"""
# A backend's relation locks, and any lock it waits for (a transaction id, when an index is built concurrently).
PG_BACKEND = f"""
SELECT {_PG_LOCK}, a.wait_event_type, a.wait_event
FROM pg_stat_activity a
LEFT JOIN pg_locks l ON l.pid = a.pid
  AND ((l.locktype = 'relation' AND {_NOT_CATALOG}) OR NOT l.granted)
LEFT JOIN pg_class c ON c.oid = l.relation
WHERE a.pid = %s
"""
PG_NAMES = f"SELECT oid::int8, oid::regclass::text FROM pg_class WHERE relnamespace NOT IN {CATALOGS}"
MARIADB_BACKEND = """
SELECT COALESCE(p.STATE, ''), m.LOCK_MODE, m.TABLE_NAME FROM information_schema.PROCESSLIST p
LEFT JOIN information_schema.METADATA_LOCK_INFO m
  ON m.THREAD_ID = p.ID AND m.LOCK_TYPE = 'Table metadata lock' AND m.TABLE_SCHEMA = DATABASE()
WHERE p.ID = %s
"""
MARIADB_STATE = "SELECT COALESCE(STATE, '') FROM information_schema.PROCESSLIST WHERE ID = %s"
# Everyone else's locks on some tables of this database (pg_locks shows every database's, and a copy of this one has
# the same oids), named after the backend's application_name.
PG_LOCKS_ON_TABLES = """
SELECT a.application_name, l.pid, c.relname, l.mode, l.granted
FROM pg_locks l
JOIN pg_class c ON c.oid = l.relation
JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'relation' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND c.relname = ANY(%s) AND l.pid <> pg_backend_pid()
"""
MARIADB_BUSY_SESSIONS = """
SELECT ID, COALESCE(STATE, ''), COALESCE(INFO, '')
FROM information_schema.PROCESSLIST
WHERE DB = %s AND ID <> CONNECTION_ID() AND COMMAND <> 'Sleep'
"""
TABLE_KINDS = ("r", "p")  # pg_class.relkind of a table, a partitioned table


@dataclass(frozen=True)
class SeenLock:
    """One lock of a session as a lock view shows it. ``mode`` is SQL's name on PostgreSQL, ``MDL_*`` on MariaDB.
    ``oid`` and ``kind`` (``pg_class.relkind``; empty when not known, and on MariaDB) are PostgreSQL's; ``locktype``
    is ``relation`` but for a non-table lock waited for."""

    relation: str
    mode: str
    granted: bool = True
    oid: int | None = None
    kind: str = ""
    locktype: str = "relation"

    @property
    def is_table(self) -> bool:
        """A table (not an index, a sequence, a transaction id...): on MariaDB, every metadata lock read here."""
        return self.locktype == "relation" and (self.oid is None or self.kind in TABLE_KINDS)


@dataclass(frozen=True)
class SessionLocks:
    """A look at a session: its locks, what it is doing (a wait event on PostgreSQL, a thread state on MariaDB)
    and whether it waits for a lock."""

    locks: list[SeenLock]
    state: str
    waiting: bool


def _pg_lock(locktype: str, oid: int | None, name: str, kind: str, mode: str, granted: bool) -> SeenLock:
    return SeenLock(name or (str(oid) if oid is not None else ""), sql_lock_name(mode), granted, oid, kind, locktype)


def session_id(cursor, vendor: str) -> int:
    """The cursor's own session: its backend pid on PostgreSQL, its connection id on MariaDB."""
    cursor.execute("SELECT pg_backend_pid()" if vendor == "postgresql" else "SELECT CONNECTION_ID()")
    return cursor.fetchone()[0]


def pg_own_locks(cursor) -> list[SeenLock]:
    """Every relation lock the cursor's own PostgreSQL backend holds or waits for."""
    cursor.execute(PG_OWN_LOCKS)
    return [_pg_lock(*row) for row in cursor.fetchall()]


def pg_names(cursor) -> dict[int, str]:
    """Every relation's name by oid: to name, later, a lock on a relation since dropped."""
    cursor.execute(PG_NAMES)
    return dict(cursor.fetchall())


def pg_session(cursor, pid: int) -> SessionLocks:
    """Another PostgreSQL backend's locks, and the lock it waits for, if any."""
    cursor.execute(PG_BACKEND, (pid,))
    rows = cursor.fetchall()
    if not rows:
        return SessionLocks([], "", False)
    kind, event = rows[0][6:]
    locks = [_pg_lock(*row[:6]) for row in rows if row[0] is not None]
    waiting = kind == "Lock"
    return SessionLocks(locks, f"waiting for a {event} lock" if waiting else "", waiting)


def pg_locks_on_tables(cursor, tables: list[str]) -> list[tuple[str, int, SeenLock]]:
    """Every other PostgreSQL backend's locks on ``tables``: (its ``application_name``, its pid, the lock)."""
    cursor.execute(PG_LOCKS_ON_TABLES, (tables,))
    return [(name, pid, SeenLock(table, sql_lock_name(mode), granted))
            for name, pid, table, mode, granted in cursor.fetchall()]


def mariadb_busy_sessions(cursor, database: str) -> list[tuple[int, str, str]]:
    """Every other MariaDB session at work in ``database``: (its id, its state, its statement)."""
    cursor.execute(MARIADB_BUSY_SESSIONS, (database,))
    return list(cursor.fetchall())


def mariadb_session(cursor, session: int, *, modes: bool = True) -> SessionLocks:
    """Another MariaDB session's metadata locks (with ``modes``; the plugin must be there) and its state."""
    if not modes:
        cursor.execute(MARIADB_STATE, (session,))
        row = cursor.fetchone()
        state = row[0] if row else ""
        return SessionLocks([], state, waits_for_lock(state))
    cursor.execute(MARIADB_BACKEND, (session,))
    rows = cursor.fetchall()
    state = rows[0][0] if rows else ""
    return SessionLocks([SeenLock(table, mode) for _, mode, table in rows if mode], state, waits_for_lock(state))


def waits_for_lock(state: str) -> bool:
    """Whether a MariaDB thread state says the session waits for a lock (a metadata lock, a table lock...)."""
    return "waiting for" in state.lower() and "lock" in state.lower()


def metadata_lock_view(cursor, *, install: bool = False) -> str | None:
    """None if MariaDB's ``METADATA_LOCK_INFO`` can be read, else why not. With ``install``, the
    ``metadata_lock_info`` plugin is installed if it is missing and the user may."""
    def active() -> bool:
        cursor.execute("SELECT 1 FROM information_schema.PLUGINS "
                       "WHERE PLUGIN_NAME = 'METADATA_LOCK_INFO' AND PLUGIN_STATUS = 'ACTIVE'")
        return cursor.fetchone() is not None

    if active():
        return None
    if not install:
        return "the metadata_lock_info plugin is not installed (INSTALL SONAME 'metadata_lock_info')"
    try:
        cursor.execute("INSTALL SONAME 'metadata_lock_info'")
    except Exception as error:  # no privilege, no such library, or MySQL, which has no such plugin
        if active():  # another process installed it meanwhile
            return None
        return f"the metadata_lock_info plugin is not installed and could not be ({error})"
    return None
