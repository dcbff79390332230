"""``migrate``, giving up on any lock not granted within a timeout, and trying again later.

    python manage.py migrate_with_retries [app_label] [migration_name] [--lock-timeout MS] [--attempts N]

A migration that waits for a lock makes every request that arrives after it
wait too. With a lock timeout, the waiting statement fails instead; the
migration's transaction rolls back, and the command runs ``migrate`` again
after a pause that doubles each time (with jitter), until the lock comes free
or the attempts run out. See guides/lock-timeout-and-retries.md.
"""

import math
import random
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections

POSTGRESQL_LOCK_NOT_AVAILABLE = "55P03"  # SQLSTATE of "canceling statement due to lock timeout"
MARIADB_LOCK_WAIT_TIMEOUT = 1205  # "Lock wait timeout exceeded; try restarting transaction"


def positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise ValueError(text) from None
        if not value > 0:
            raise ValueError(text)
        return value

    parse.__name__ = f"positive {kind.__name__}"  # argparse names the type in its error message
    return parse


def set_lock_timeout(connection, milliseconds):
    """Make every later statement on ``connection`` give up after waiting ``milliseconds`` for a lock."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SET lock_timeout = {int(milliseconds)}")
        elif connection.vendor == "mysql":
            # MariaDB counts whole seconds for metadata locks, and InnoDB's row locks have their own setting.
            seconds = math.ceil(milliseconds / 1000)
            cursor.execute(f"SET SESSION lock_wait_timeout = {seconds}")
            cursor.execute(f"SET SESSION innodb_lock_wait_timeout = {seconds}")


def current_lock_timeouts(connection):
    """The session's lock timeout settings as they are now, to put back with :func:`restore_lock_timeouts`."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT current_setting('lock_timeout')")
            return {"lock_timeout": cursor.fetchone()[0]}
        if connection.vendor == "mysql":
            cursor.execute("SELECT @@SESSION.lock_wait_timeout, @@SESSION.innodb_lock_wait_timeout")
            return dict(zip(("lock_wait_timeout", "innodb_lock_wait_timeout"), cursor.fetchone()))
    return {}


def restore_lock_timeouts(connection, saved):
    """Put back what :func:`current_lock_timeouts` saved, for whatever runs on ``connection`` next."""
    with connection.cursor() as cursor:
        for name, value in saved.items():
            if connection.vendor == "postgresql":
                cursor.execute("SELECT set_config(%s, %s, false)", [name, value])
            else:
                cursor.execute(f"SET SESSION {name} = %s", [value])


def is_lock_timeout(error):
    """Whether ``error`` is a statement that gave up waiting for a lock."""
    cause = error.__cause__
    sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)  # psycopg 3, psycopg2
    return sqlstate == POSTGRESQL_LOCK_NOT_AVAILABLE or (bool(error.args) and error.args[0] == MARIADB_LOCK_WAIT_TIMEOUT)


class Command(BaseCommand):
    help = "Run migrate with a lock timeout, trying again with growing pauses while a lock is not granted."

    def add_arguments(self, parser):
        parser.add_argument("app_label", nargs="?", help="as for migrate")
        parser.add_argument("migration_name", nargs="?", help="as for migrate")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="as for migrate")
        parser.add_argument("--lock-timeout", type=positive(int), default=2000, metavar="MS",
                            help="how long a statement may wait for a lock, in ms (default 2000; "
                                 "MariaDB rounds up to whole seconds)")
        parser.add_argument("--attempts", type=positive(int), default=10,
                            help="how many times to run migrate in all (default 10)")
        parser.add_argument("--pause", type=positive(float), default=1.0, metavar="SECONDS",
                            help="pause before the second attempt; it doubles after each (default 1)")
        parser.add_argument("--max-pause", type=positive(float), default=30.0, metavar="SECONDS",
                            help="longest pause between two attempts (default 30)")

    def handle(self, *args, **options):
        connection = connections[options["database"]]
        if connection.vendor == "sqlite":
            self.stderr.write("SQLite has no lock timeout to set: running migrate once.")
        migrate_args = [arg for arg in (options["app_label"], options["migration_name"]) if arg]
        saved = current_lock_timeouts(connection)
        try:
            self.migrate(connection, migrate_args, options)
        finally:
            restore_lock_timeouts(connection, saved)

    def migrate(self, connection, migrate_args, options):
        attempts = options["attempts"]
        for attempt in range(1, attempts + 1):
            # Set on every attempt: the connection may have been closed and opened again since.
            set_lock_timeout(connection, options["lock_timeout"])
            try:
                call_command("migrate", *migrate_args, database=options["database"], interactive=False,
                             verbosity=options["verbosity"], stdout=self.stdout, stderr=self.stderr)
                return
            except OperationalError as error:
                if not is_lock_timeout(error):
                    raise
                if attempt == attempts:
                    tried = f"{attempts} attempt{'s' if attempts > 1 else ''}"
                    raise CommandError(f"A lock was still not granted within {options['lock_timeout']} ms after "
                                       f"{tried} ({error}). Find the session holding it, or try later.")
                pause = min(options["max_pause"], options["pause"] * 2 ** (attempt - 1))
                pause *= random.uniform(0.5, 1.0)  # so that several waiting deploys do not retry in step
                self.stderr.write(f"Attempt {attempt} of {attempts}: a lock was not granted within "
                                  f"{options['lock_timeout']} ms ({error}). Trying again in {pause:.1f} s.")
                time.sleep(pause)
