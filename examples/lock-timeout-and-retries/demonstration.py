"""The guide's story on a real database: a brief lock queued behind an open transaction stalls the site; a lock
timeout bounds the stall; retries get the migration through once the transaction ends. On PostgreSQL, a concurrent
index build held up by a snapshot on another table, and left INVALID when a lock timeout cancels it. Then the same
migration on the real site (gunicorn behind nginx, visitors who give up): the outage chain, and how the lock timeout
breaks it.

Used by ``nox -s demo -- lock-timeout-and-retries`` (to tell it), by ``nox -s evidence`` (to record it for the
guide) and by the tests (to check it).
"""

from __future__ import annotations

import time

from lab import verbs
from lab.deploy import DeployReport, OpenTransaction
from lab.fill import fill
from lab.site_deploy import SiteReport, migrate_while_serving
from lab.releases import CommandRun, Release
from lab.story import Story

SLUG = "lock-timeout-and-retries"
TABLE = "shop_order"
OTHER_TABLE = "shop_customer"  # what a long report reads, away from the migration's table
COLUMNS = {"customer_id": "i % 1000", "total_cents": "i % 50000"}
RELEASE_1 = Release(SLUG, "release_1")
RELEASE_2 = Release(SLUG, "release_2")  # AddField as makemigrations wrote it, and the migrate_with_retries command
IN_MIGRATION = Release(SLUG, "release_2_timeout_in_migration")  # the same AddField after SET LOCAL lock_timeout
BLOCK_SECONDS = 3.0  # how long the transaction the migration queues behind stays open
TIMEOUT_MS = 300  # the wrapper's lock timeout here (MariaDB counts whole seconds: 1 s)
RETRIES = ("--attempts", "10", "--pause", "0.2", "--max-pause", "1")
INDEX = "order_total_idx"
BUILD_INDEX = f"CREATE INDEX CONCURRENTLY {INDEX} ON {TABLE} (total_cents)"
CHAIN_SECONDS = 4.0  # the open transaction of the runs on the real site: longer than nginx or a visitor waits
# Between two attempts the site must clear what queued during the last one, which takes about as long as the
# attempt at half capacity: pauses of 1 s (at least 0.5 s with the jitter) after 300 ms attempts; MariaDB's shortest
# lock wait above zero is 1 s, so pauses of 4 s (at least 2 s).
CHAIN_RETRIES = {"postgresql": ("--attempts", "20", "--pause", "1", "--max-pause", "2"),
                 "mysql": ("--attempts", "10", "--pause", "4", "--max-pause", "4")}
OPERATIONS = {
    "plain": f"AddField, migrate, behind a transaction open {BLOCK_SECONDS:.0f} s",
    "timeout": f"the same, migrate_with_retries --lock-timeout {TIMEOUT_MS} --attempts 1",
    "retries": f"the same, migrate_with_retries --lock-timeout {TIMEOUT_MS} --attempts 10",
    "index_snapshot": "CREATE INDEX CONCURRENTLY, a REPEATABLE READ transaction open on another table",
    "index_idle": "the same, a READ COMMITTED transaction idle on another table",
    "index_timeout": f"the same as with REPEATABLE READ, lock_timeout {TIMEOUT_MS} ms",
    "chain_plain": f"AddField, migrate, a transaction open {CHAIN_SECONDS:.0f} s, on the real site",
    "chain_retries": f"the same, migrate_with_retries --lock-timeout {TIMEOUT_MS}, pauses of 1 s (MariaDB 4 s)",
    "chain_default_timeout": "the same, the wrapper's default lock timeout, 2 s",
}
MIGRATION_STEPS = ["plain", "timeout", "retries"]
SQL = [
    ("release_2", "shop", "0002"),
    ("release_2_timeout_in_migration", "shop", "0002"),
]


def orders_table(database, rows: int, story: Story) -> None:
    """Release 1's schema with ``rows`` orders."""
    verbs.filled_table(database, [RELEASE_1], TABLE, COLUMNS, rows, story)


def shop_tables(database, rows: int, story: Story) -> None:
    """:func:`orders_table`, and 1,000 customers: the site's pages on a table the migration leaves alone."""
    orders_table(database, rows, story)
    fill(database, OTHER_TABLE, {"name": "CONCAT('customer ', i)"}, 1_000)


def on_the_site(database, story: Story, *, migrate_with=None, seconds: float = CHAIN_SECONDS) -> SiteReport:
    """Deploy release 2 while release 1's site serves visitors, once a transaction that read the orders has stayed
    open: it opens just before the migration starts and ends ``seconds`` later."""
    story.say(f"A transaction reads {TABLE} and stays open {seconds:.0f} s")
    held = OpenTransaction(database, TABLE, seconds)
    try:
        return migrate_while_serving(database, RELEASE_1, RELEASE_2, story, before_migration=held.start,
                                     migrate_with=migrate_with)
    finally:
        held.join()


def chain_runs(engine) -> dict[str, tuple[str, ...]]:
    """The wrapper's flags of each run on the real site but plain migrate, for ``engine``."""
    runs = {"chain_retries": ("--lock-timeout", str(TIMEOUT_MS), *CHAIN_RETRIES[engine.vendor])}
    if engine.vendor == "postgresql":  # MariaDB's claim is against plain migrate: its 1 s wait is half of nginx's
        runs["chain_default_timeout"] = CHAIN_RETRIES[engine.vendor]
    return runs


def wrapper_with(database, *flags: str) -> CommandRun:
    """Release 2's ``migrate_with_retries`` with ``flags`` alone (its own default lock timeout unless they set one)."""
    return RELEASE_2.run("migrate_with_retries", *flags, database=database, role="migrate")


def wrapper(database, *flags: str) -> CommandRun:
    """Release 2's ``migrate_with_retries`` with a lock timeout of :data:`TIMEOUT_MS` and ``flags``."""
    return RELEASE_2.run("migrate_with_retries", "--lock-timeout", str(TIMEOUT_MS), *flags, database=database,
                         role="migrate")


def behind_a_transaction(database, story: Story, *, release: Release = RELEASE_2,
                         migrate_with=None, seconds: float = BLOCK_SECONDS) -> DeployReport:
    """Deploy ``release`` while release 1 serves, once a transaction that read the table has stayed open: it opens
    just before the migration starts and ends ``seconds`` later."""
    story.say(f"A transaction reads {TABLE} and stays open {seconds:.0f} s, as a slow report would")
    held = OpenTransaction(database, TABLE, seconds)
    try:
        return verbs.deploy(database, RELEASE_1, release, story, [TABLE], before_migration=held.start,
                            migrate_with=migrate_with)
    finally:
        held.join()


def build_index(database, lock_timeout_ms: int | None = None) -> CommandRun:
    """:data:`BUILD_INDEX` on a connection of its own, after ``SET lock_timeout`` if given; timed like a command."""
    started, clock = time.time(), time.perf_counter()
    try:
        with database.connect() as connection:
            cursor = connection.cursor()
            if lock_timeout_ms:
                cursor.execute(f"SET lock_timeout = {int(lock_timeout_ms)}")
            cursor.execute(BUILD_INDEX)
        returncode, error = 0, ""
    except Exception as exc:  # reported, like a failed command
        returncode, error = 1, f"{type(exc).__name__}: {exc}"
    return CommandRun(("sql", BUILD_INDEX), returncode, "", error, started, time.perf_counter() - clock)


def index_valid(database) -> bool | None:
    """Whether the index is valid; None if it does not exist."""
    with database.connect() as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", (INDEX,))
        row = cursor.fetchone()
    return row[0] if row else None


def index_behind(database, story: Story, isolation: str, lock_timeout_ms: int | None = None) -> DeployReport:
    """Build the index while release 1 serves, just after a transaction at ``isolation`` has read another table;
    it stays open :data:`BLOCK_SECONDS`."""
    story.say(f"A {isolation} transaction reads {OTHER_TABLE} and stays open {BLOCK_SECONDS:.0f} s")
    held = OpenTransaction(database, OTHER_TABLE, BLOCK_SECONDS, isolation=isolation)

    def step() -> CommandRun:
        held.start()
        return build_index(database, lock_timeout_ms)

    try:
        return verbs.serve_while(database, RELEASE_1, "Building an index concurrently", step, story, [TABLE])
    finally:
        held.join()


def demonstrate(engine, rows: int, story: Story, new_database) -> dict:
    """The stall, the timeout and the retries (PostgreSQL and MariaDB); then the concurrent index build held up
    elsewhere (PostgreSQL). SQLite has neither lock modes nor lock timeouts: nothing to show."""
    if engine.vendor == "sqlite":
        story.say("SQLite: no lock timeout to show")
        return {}
    reports = {}
    story.heading("The migration queues behind an open transaction, and the site queues behind it")
    database = new_database(engine)
    orders_table(database, rows, story)
    reports["plain"] = behind_a_transaction(database, story)

    story.heading(f"The same, with a lock timeout of {TIMEOUT_MS} ms and a single attempt")
    database = new_database(engine)
    orders_table(database, rows, story)
    reports["timeout"] = behind_a_transaction(database, story, migrate_with=lambda: wrapper(database, "--attempts", "1"))

    story.heading("The same, retried with growing pauses until the transaction has ended")
    database = new_database(engine)
    orders_table(database, rows, story)
    reports["retries"] = behind_a_transaction(database, story, migrate_with=lambda: wrapper(database, *RETRIES))

    results = {label: {"figures": report.figures(TABLE), "report": report} for label, report in reports.items()}
    chain = {"chain_plain": None, **chain_runs(engine)}
    for label, flags in chain.items():
        story.heading(OPERATIONS[label])
        database = new_database(engine)
        shop_tables(database, rows, story)
        site = on_the_site(database, story, migrate_with=flags and (lambda: wrapper_with(database, *flags)))
        results[label] = {"figures": {**site.figures(), "transaction_open_s": CHAIN_SECONDS}, "site_report": site}
    if engine.vendor != "postgresql":
        return results
    for label, isolation, timeout in (("index_snapshot", "REPEATABLE READ", None),
                                      ("index_idle", "READ COMMITTED", None),
                                      ("index_timeout", "REPEATABLE READ", TIMEOUT_MS)):
        story.heading(OPERATIONS[label])
        database = new_database(engine)
        orders_table(database, rows, story)
        report = index_behind(database, story, isolation, timeout)
        valid = index_valid(database)
        story.say(f"index {INDEX}: {'missing' if valid is None else 'valid' if valid else 'INVALID'}")
        results[label] = {"figures": {**report.figures(TABLE), "index_valid": valid}, "report": report}
    return results
