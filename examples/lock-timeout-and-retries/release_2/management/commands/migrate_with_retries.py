"""``migrate``, one at a time, giving up on any lock not granted within a timeout, and trying again later.

    python manage.py migrate_with_retries [app_label] [migration_name] [--lock-timeout MS] [--attempts N]

A migration that waits for a lock makes every request that arrives after it
wait too. With a lock timeout, the waiting statement fails instead; the
migration's transaction rolls back, and the command runs ``migrate`` again
after a pause that doubles each time (with jitter), until the lock comes free
or the attempts run out. See guides/lock-timeout-and-retries.md.

Two of them started together (every instance migrating as it starts) would
race to apply the same migrations. The command first takes a lock of the
database for the whole run, on a connection of its own: a second run waits
for the first to end, then finds nothing left to apply.
See guides/deploy-migrations-first.md.
"""

import math
import random
import time
import zlib

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, OperationalError, connections

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


RUN_LOCK = "django migrate"  # the lock one run holds, for every run of every release
RUN_LOCK_KEY = zlib.crc32(RUN_LOCK.encode())  # PostgreSQL's advisory locks are numbered, one set per database


def run_lock_name(connection):
    """MariaDB's named locks are the server's, not the database's: the name carries the database's (hashed, for
    the 64 characters a name may have)."""
    return f"{RUN_LOCK} {zlib.crc32(str(connection.settings_dict['NAME']).encode()):08x}"


def try_run_lock(connection):
    """Take the run lock on ``connection`` if no other session holds it; whether it was taken."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [RUN_LOCK_KEY])
        elif connection.vendor == "mysql":
            cursor.execute("SELECT GET_LOCK(%s, 0)", [run_lock_name(connection)])
        else:
            return True  # SQLite: one file, one writer; nothing to take
        return bool(cursor.fetchone()[0])


def run_lock_holder(connection):
    """The server's id of the session that holds the run lock (PostgreSQL's pid, MariaDB's connection id), or None."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A single bigint key is stored as classid (its high half) and objid (its low half).
            cursor.execute("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 0 "
                           "AND objid = %s AND objsubid = 1 AND database = (SELECT oid FROM pg_database "
                           "WHERE datname = current_database())", [RUN_LOCK_KEY])
        elif connection.vendor == "mysql":
            cursor.execute("SELECT IS_USED_LOCK(%s)", [run_lock_name(connection)])
        else:
            return None
        row = cursor.fetchone()
        return row[0] if row else None


def own_session_id(connection):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()" if connection.vendor == "postgresql" else "SELECT CONNECTION_ID()")
        return cursor.fetchone()[0]


def keep_idle_session_open(connection):
    """The lock's connection sits idle while migrate runs: keep the server from ending it for idleness."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # idle_session_timeout exists from PostgreSQL 14 on: set it only where it does.
            cursor.execute("SELECT set_config('idle_session_timeout', '0', false) "
                           "WHERE current_setting('idle_session_timeout', true) IS NOT NULL")
        elif connection.vendor == "mysql":
            cursor.execute("SET SESSION wait_timeout = 31536000")


def release_run_lock(connection):
    """Give the run lock back. Closing the connection would too, unless a pool or a pooler keeps the session open."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_unlock(%s)", [RUN_LOCK_KEY])
        elif connection.vendor == "mysql":
            cursor.execute("SELECT RELEASE_LOCK(%s)", [run_lock_name(connection)])


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
        parser.add_argument("--wait-for-other-run", type=positive(float), default=1800.0, metavar="SECONDS",
                            help="how long to wait while another migrate_with_retries runs (default 1800)")

    def handle(self, *args, **options):
        connection = connections[options["database"]]
        if connection.vendor == "sqlite":
            self.stderr.write("SQLite has no lock timeout to set: running migrate once.")
        migrate_args = [arg for arg in (options["app_label"], options["migration_name"]) if arg]
        # The run lock lives on a connection of its own: migrate may close and reopen the one it uses.
        holder = connections.create_connection(options["database"])
        try:
            if connection.vendor != "sqlite":
                keep_idle_session_open(holder)
                self.wait_for_other_runs(holder, options["wait_for_other_run"])
            saved = current_lock_timeouts(connection)
            try:
                self.migrate(connection, migrate_args, options, holder)
            finally:
                restore_lock_timeouts(connection, saved)
        finally:
            try:
                if connection.vendor != "sqlite":
                    release_run_lock(holder)
            except DatabaseError:
                pass  # the connection is gone, and the lock with it; do not hide why the run ended
            finally:
                holder.close()

    def wait_for_other_runs(self, holder, seconds):
        """Take the run lock, polling while another run holds it, for up to ``seconds``."""
        deadline = time.monotonic() + seconds
        said = False
        while not try_run_lock(holder):
            other = run_lock_holder(holder)
            if time.monotonic() >= deadline:
                raise CommandError(f"Another migrate_with_retries (server session {other}) still held the run lock "
                                   f"after {seconds:g} s. Find the deploy that runs it, or end that session.")
            if not said:
                self.stderr.write(f"Another migrate_with_retries is running (server session {other}): waiting for "
                                  "it to end.")
                said = True
            time.sleep(0.5)
        self.holder_session = own_session_id(holder)

    def check_run_lock(self, holder):
        """Stop if the run lock was lost (its connection ended): another run may be migrating."""
        if holder.vendor != "sqlite" and run_lock_holder(holder) != self.holder_session:
            raise CommandError("The run lock was lost (its connection to the database ended): another "
                               "migrate_with_retries may be migrating. Check with migrate --plan before running again.")

    def migrate(self, connection, migrate_args, options, holder):
        attempts = options["attempts"]
        for attempt in range(1, attempts + 1):
            self.check_run_lock(holder)
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
