"""The site's settings, with a lock timeout on every database connection: for ``migrate`` only.

    python manage.py migrate --settings=migrate_settings

The site itself keeps its usual settings; only the migrate command's
connections give up waiting for a lock after LOCK_TIMEOUT_MS.
See guides/lock-timeout-and-retries.md.
"""

import math

from django.core.exceptions import ImproperlyConfigured

from settings import *  # noqa: F403 (the site's settings, unchanged but for the lines below)
from settings import DATABASES

LOCK_TIMEOUT_MS = 500


def with_lock_timeout(database: dict) -> dict:
    """A copy of a ``DATABASES`` entry whose connections start with a lock timeout."""
    options = dict(database.get("OPTIONS", {}))
    engine = database["ENGINE"]
    if engine.endswith(("postgresql", "postgis")):
        # Sent when connecting, as libpq's "options": the server sets it before the first statement.
        options["options"] = f"{options.get('options', '')} -c lock_timeout={LOCK_TIMEOUT_MS}".strip()
    elif engine.endswith("mysql"):
        seconds = math.ceil(LOCK_TIMEOUT_MS / 1000)  # MariaDB counts whole seconds
        setting = f"SESSION lock_wait_timeout = {seconds}"
        site_command = options.get("init_command", "").strip().rstrip(";")
        if site_command and not site_command.upper().startswith("SET "):
            raise ImproperlyConfigured(f"migrate_settings: add '{setting}' to your init_command by hand")
        # One SET statement: the driver runs init_command as a single statement.
        options["init_command"] = f"{site_command}, {setting}" if site_command else f"SET {setting}"
    elif not engine.endswith("sqlite3"):  # SQLite has no lock timeout to set
        raise ImproperlyConfigured(f"migrate_settings: no lock timeout known for {engine}")
    return {**database, "OPTIONS": options}


DATABASES = {alias: with_lock_timeout(database) for alias, database in DATABASES.items()}
