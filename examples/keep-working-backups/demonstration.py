"""The guide's story on a real database: a backup taken while the site serves, the destructive release, and the
restore drill that proves nothing the drop took is lost; the targeted export of only what the release drops, loaded
back and checked the same way; what each costs as the table grows; and what ``dumpdata`` would have saved instead.

The releases are remove-a-field's: release 2 forgets a field and a model in Django's state, release 3 drops the
column and the table.

Used by ``nox -s demo -- keep-working-backups`` (to tell it), by ``nox -s evidence`` (to record it for the guide)
and by the tests (to check it).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from lab import backups, site_verbs, verbs
from lab.deploy import DeployReport
from lab.engines import Database, EngineUnavailable
from lab.fill import fill
from lab.releases import CommandRun, Release
from lab.rolling import rolling
from lab.story import Story

SLUG = "keep-working-backups"
TABLE = "shop_product"
COUPONS = "shop_coupon"
COLUMNS = {"name": "'Teapot'", "price_cents": "i % 5000", "legacy_code": "i"}
COUPON_COLUMNS = {"code": "i", "percent_off": "i % 50"}
RELEASE_1 = Release(SLUG, "release_1")
RELEASE_2 = Release(SLUG, "release_2")  # the code forgets legacy_code and Coupon; the database keeps them
RELEASE_3 = Release(SLUG, "release_3")  # drops the column and the table


@dataclass(frozen=True)
class Dropped:
    """One kind of data release 3 destroys: the rows ``where`` keeps of ``table``, exported into the file ``file``
    (and the engine's suffix), and the table of its own, ``into``, it is loaded into, with its columns (the key
    first) and their types."""

    table: str
    where: str | None
    file: str
    into: str
    columns: dict[str, str]

    def path(self, folder: Path, database: Database) -> Path:
        return folder / f"{self.file}{backups.EXPORT_SUFFIXES[database.engine.vendor]}"


# The data release 3 destroys: every product's legacy code that release 1 wrote (release 2 writes none: NULL), with
# the key to put it back by; and every coupon, all its columns.
DROPPED = {
    "legacy codes": Dropped(TABLE, "legacy_code IS NOT NULL", "legacy_codes", "kept_legacy_codes",
                            {"id": "bigint PRIMARY KEY", "legacy_code": "varchar(20) NOT NULL"}),
    "coupons": Dropped(COUPONS, None, "coupons", "kept_coupons",
                       {"id": "bigint PRIMARY KEY", "code": "varchar(20) NOT NULL", "percent_off": "integer NOT NULL"}),
}
OPERATIONS = {
    "backup": "Backup while release 2 serves",
    "drop": "Release 3 rolled out: DROP COLUMN, DROP TABLE",
    "restore": "Restore into a new database",
    "kept": "Targeted export while release 2 serves, loaded into a new database",
    "small": "Backup and restore, a tenth of the rows",
    "large": "Backup and restore, every row",
    "export": "Targeted export and load, every row",
    "dumpdata": "manage.py dumpdata of release 2",
    "during_dump": "Release 3's migration while pg_dump runs",
    "during_dump_timeout": "The same, lock_timeout 100 ms",
}
MIGRATION_STEPS = ["drop", "during_dump", "during_dump_timeout"]
SQL = [("release_3", "shop", "0003")]


def shop(database: Database, rows: int, story: Story) -> None:
    """Release 1's schema with ``rows`` products and a coupon for every tenth of them."""
    verbs.filled_table(database, [RELEASE_1], TABLE, COLUMNS, rows, story)
    fill(database, COUPONS, COUPON_COLUMNS, max(rows // 10, 1))


def shop_at_release_2(database: Database, rows: int, story: Story) -> None:
    """:func:`shop`, then release 2's migration: the schema release 3 drops from."""
    shop(database, rows, story)
    migration = RELEASE_2.run("migrate", database=database)
    if not migration.ok:
        raise RuntimeError(f"migrating release 2 failed:\n{migration.stderr}")


def destroyed(database: Database) -> dict[str, tuple[int, str] | None]:
    """The data release 3 destroys, per kind: its rows and their SHA-256 in key order, or None once it is gone."""
    found = {}
    for kind, dropped in DROPPED.items():
        digest = backups.digest(database, dropped.table, list(dropped.columns), where=dropped.where)
        found[kind] = (digest.rows, digest.sha256) if digest else None
    return found


def kept(database: Database) -> dict[str, tuple[int, str] | None]:
    """What the targeted export, loaded into ``database``, holds of each kind: rows and SHA-256 as
    :func:`destroyed` counts and hashes them in the live database."""
    found = {}
    for kind, dropped in DROPPED.items():
        digest = backups.digest(database, dropped.into, list(dropped.columns))
        found[kind] = (digest.rows, digest.sha256) if digest else None
    return found


def export_dropped(database: Database, folder: Path) -> backups.Timed:
    """The targeted export: for each kind of data release 3 drops, its columns and key, exported with the engine's
    own client into a file of ``folder``; their size and time together."""
    folder.mkdir(parents=True, exist_ok=True)
    taken = [backups.export_rows(database, dropped.table, list(dropped.columns), dropped.path(folder, database),
                                 where=dropped.where) for dropped in DROPPED.values()]
    return backups.Timed(folder, sum(t.bytes for t in taken), sum(t.seconds for t in taken))


def load_dropped(folder: Path, database: Database) -> backups.Timed:
    """Load the files of :func:`export_dropped` into tables of their own in ``database``."""
    loaded = [backups.load_rows(dropped.path(folder, database), database, dropped.into, dropped.columns)
              for dropped in DROPPED.values()]
    return backups.Timed(folder, sum(t.bytes for t in loaded), sum(t.seconds for t in loaded))


def lost(before: dict, after: dict) -> int:
    """Rows of the destroyed data not found, identical, after: all of a kind's rows when its digest differs."""
    return sum(count for kind, (count, digest) in before.items() if after.get(kind) != (count, digest))


def timed_backup(database: Database, path: Path) -> CommandRun:
    """:func:`lab.backups.backup` as a step a deploy verb can time and watch."""
    started = time.time()
    try:
        taken = backups.backup(database, path)
        return CommandRun(("backup", str(path)), 0, f"{taken.bytes}", "", started, taken.seconds)
    except (RuntimeError, EngineUnavailable) as failure:
        return CommandRun(("backup", str(path)), 1, "", str(failure), started, time.time() - started)


def timed_export(database: Database, folder: Path) -> CommandRun:
    """:func:`export_dropped` as a step a deploy verb can time and watch."""
    started = time.time()
    try:
        taken = export_dropped(database, folder)
        return CommandRun(("export", str(folder)), 0, f"{taken.bytes}", "", started, taken.seconds)
    except (RuntimeError, EngineUnavailable) as failure:
        return CommandRun(("export", str(folder)), 1, "", str(failure), started, time.time() - started)


def dump_locks(report: DeployReport) -> list[str] | None:
    """The table locks the backup's own session was seen holding on the products table (PostgreSQL's pg_dump names
    itself ``pg_dump``); None where the engine shows no lock modes."""
    if not (report.locks and report.locks.modes_observable):
        return None
    return sorted(report.locks.modes("pg_dump", TABLE))


def drill(engine, rows: int, story: Story, new_database, folder: Path) -> dict:
    """Release 2 rolled out; a backup while it serves, restored and checked; the targeted export while it serves,
    loaded and checked; the log position noted; only then release 3."""
    database = new_database(engine)
    shop(database, rows, story)
    rolling(database, RELEASE_1, RELEASE_2, story, [TABLE, COUPONS])
    before = destroyed(database)
    path = folder / f"before-release-3-{engine.id}"
    exports = folder / f"export-{engine.id}"
    # Both while release 2's real site serves: the backup, then the targeted export, for a database too big to dump
    # and restore whole (only what release 3 drops).
    with site_verbs.ServingSite(database, RELEASE_2, story) as site:
        backup = site.run("Backing the database up", lambda: timed_backup(database, path), [TABLE, COUPONS])
        export = site.run("Exporting what release 3 drops", lambda: timed_export(database, exports),
                          [TABLE, COUPONS]) if backup.migration.ok else None
    if not backup.migration.ok:  # no drop without a backup
        raise RuntimeError(f"the backup failed, so release 3 is not deployed: {backup.migration.stderr}")
    # Release 2 writes none of the data release 3 drops: the same before and after the backup, and at the drop.
    unchanged = destroyed(database) == before
    restored = new_database(engine)
    with story.step("Restoring the backup into a new database"):
        restore = backups.restore(path, restored)
    back = destroyed(restored)
    if lost(before, back):  # the backup does not work: no drop
        raise RuntimeError(f"the restore lacks {lost(before, back):,} rows of what release 3 would drop")
    if not export.migration.ok:  # no drop without a copy of what it drops
        raise RuntimeError(f"the export failed, so release 3 is not deployed: {export.migration.stderr}")
    loaded = new_database(engine)
    with story.step("Loading the export into tables of their own in a new database"):
        load = load_dropped(exports, loaded)
    live, held = destroyed(database), kept(loaded)  # checked against the live rows, just before the drop
    if lost(live, held):
        raise RuntimeError(f"the export lacks {lost(live, held):,} rows of what release 3 would drop")
    # Where a point-in-time recovery would stop: just before the migration that drops.
    position = backups.log_position(database)
    story.say(f"Log position before release 3: {position or 'none (no log of changes to recover from)'}")
    drop = rolling(database, RELEASE_2, RELEASE_3, story, [TABLE, COUPONS])
    gone = destroyed(database)
    story.say(f"Rows of the data release 3 drops: {sum(c for c, _ in before.values()):,}; "
              f"{lost(before, back):,} missing from the restore, {lost(live, held):,} from the export; "
              f"{lost(before, gone):,} gone after release 3")
    return {"backup": backup, "drop": drop, "restore": restore, "before": before, "gone": gone, "back": back,
            "unchanged": unchanged, "backup_bytes": int(backup.migration.stdout or 0),
            "export": export, "load": load, "live": live, "kept": held, "position": position}


def sizes(engine, rows: int, story: Story, new_database, folder: Path) -> dict:
    """Backup and restore times at a tenth of ``rows`` and at ``rows``, and the targeted export's and its load's at
    ``rows``, the site idle."""
    measured = {}
    for label, count in (("small", max(rows // 10, 1)), ("large", rows)):
        database = new_database(engine)
        shop(database, count, story)
        with story.step(f"Backing up and restoring {count:,} products"):
            taken = backups.backup(database, folder / f"{label}-{engine.id}")
            restored = new_database(engine)
            restore = backups.restore(taken.path, restored)
        # A restore that lost or changed rows would look quick: every row of both tables is compared.
        if backups.digests(restored, [TABLE, COUPONS]) != backups.digests(database, [TABLE, COUPONS]):
            raise RuntimeError(f"the restore of {count:,} products differs from the database backed up")
        measured[label] = {"rows": count, "backup_ms": round(taken.seconds * 1000),
                           "restore_ms": round(restore.seconds * 1000), "backup_mb": round(taken.bytes / 1e6, 1)}
        story.say(f"{count:,} rows: backup {taken.seconds:.1f} s ({taken.bytes / 1e6:.1f} MB), "
                  f"restore {restore.seconds:.1f} s")
    # The same database, every row: the targeted export of what release 3 would drop, and its load, for the guide
    # to set beside the backup and the restore (under the same figure names).
    with story.step(f"Exporting what release 3 drops, and loading it, at {rows:,} products"):
        exported = export_dropped(database, folder / f"export-{rows}-{engine.id}")
        loaded = new_database(engine)
        load = load_dropped(exported.path, loaded)
    if lost(destroyed(database), kept(loaded)):
        raise RuntimeError(f"the export of {rows:,} products differs from the database it came from")
    measured["export"] = {"rows": rows, "backup_ms": round(exported.seconds * 1000),
                          "restore_ms": round(load.seconds * 1000), "backup_mb": round(exported.bytes / 1e6, 1)}
    story.say(f"{rows:,} rows: export {exported.seconds:.1f} s ({exported.bytes / 1e6:.1f} MB), "
              f"load {load.seconds:.1f} s")
    return measured


def dumpdata(engine, rows: int, story: Story, new_database) -> dict:
    """What ``manage.py dumpdata`` of release 2 holds of the data release 3 destroys."""
    database = new_database(engine)
    shop_at_release_2(database, rows, story)
    with story.step("manage.py dumpdata shop, as release 2"):
        run = RELEASE_2.run("dumpdata", "shop", database=database)
    if not run.ok:
        raise RuntimeError(f"dumpdata failed:\n{run.stderr}")
    return {"dumpdata_ms": round(run.seconds * 1000), "dumpdata_mb": round(len(run.stdout.encode()) / 1e6, 1),
            "holds_legacy_codes": '"legacy_code"' in run.stdout, "holds_coupons": '"shop.coupon"' in run.stdout,
            "rows": rows}


DUMP_ROWS = 1_000_000  # enough rows for pg_dump to hold its lock for a while
LOCK_TIMEOUT_MS = 100


def dump_holds_its_lock(database: Database, timeout: float = 30) -> None:
    """Wait until pg_dump holds its lock on the products table."""
    deadline = time.monotonic() + timeout
    with database.connect() as connection:
        cursor = connection.cursor()
        while time.monotonic() < deadline:
            cursor.execute("SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                           "JOIN pg_class c ON c.oid = l.relation "
                           "WHERE a.application_name = 'pg_dump' AND c.relname = %s AND l.granted", (TABLE,))
            if cursor.fetchone():
                return
            time.sleep(0.005)
    raise RuntimeError("pg_dump did not take its lock on the products table")


def drop_during_dump(database: Database, folder: Path, story: Story,
                     lock_timeout_ms: int | None = None) -> DeployReport:
    """PostgreSQL: release 3's migration started while pg_dump runs and release 2's real site serves visitors; with
    a ``lock_timeout`` if given."""
    import threading

    target = database.with_options(options=f"-c lock_timeout={lock_timeout_ms}") if lock_timeout_ms else database
    taken: list = []

    def migrate_during_dump() -> CommandRun:
        dump = threading.Thread(target=lambda: taken.append(backups.backup(database, folder / "during-dump")))
        dump.start()
        try:
            dump_holds_its_lock(database)
            return RELEASE_3.run("migrate", "--no-input", database=target, role="migrate")
        finally:
            dump.join()

    return site_verbs.deploy_on_site(database, RELEASE_2, RELEASE_3, story, [TABLE, COUPONS],
                                     migrate_with=migrate_during_dump)


def drop_without_dump(database: Database, story: Story) -> DeployReport:
    """PostgreSQL: release 3's migration while release 2's site serves, no dump running: the contrast."""
    return site_verbs.deploy_on_site(database, RELEASE_2, RELEASE_3, story, [TABLE, COUPONS])


def demonstrate(engine, rows: int, story: Story, new_database) -> dict:
    """The drill at a tenth of ``rows``, backup and restore at two sizes, and dumpdata."""
    with tempfile.TemporaryDirectory(prefix="handbook-backups-") as folder:
        story.heading("The drill: a backup while release 2 serves, release 3's drop, the restore checked")
        small = max(rows // 10, 1)
        done = drill(engine, small, story, new_database, Path(folder))
        story.heading("What a backup and a restore take as the table grows")
        measured = sizes(engine, rows, story, new_database, Path(folder))
        during = {}
        if engine.vendor == "postgresql":
            for label, timeout in (("during_dump", None), ("during_dump_timeout", LOCK_TIMEOUT_MS)):
                story.heading("Release 3 migrated while pg_dump runs"
                              + (f", with lock_timeout {timeout} ms" if timeout else ""))
                database = new_database(engine)
                shop_at_release_2(database, DUMP_ROWS, story)
                during[label] = drop_during_dump(database, Path(folder), story, timeout)
    story.heading("What dumpdata would have saved")
    dumped = dumpdata(engine, small, story, new_database)
    backup: DeployReport = done["backup"]
    results = {
        # The backup's session is pg_dump's, not a migration's: the migration's lock figures do not apply.
        "backup": {"report": backup, "rows": small, "figures": backup.figures(TABLE)
                   | {"lock_modes": None, "lock_held_ms": None, "backup_mb": round(done["backup_bytes"] / 1e6, 1),
                      "backup_lock_modes": dump_locks(backup)}},
        "drop": {"report": done["drop"], "rows": small,
                 "figures": done["drop"].figures(TABLE) | {"values_lost": lost(done["before"], done["gone"])}},
        "restore": {"rows": small, "figures": {"restore_ms": round(done["restore"].seconds * 1000),
                                               "values_lost": lost(done["before"], done["back"])}},
        # The export's session is the engine's client, not a migration's: the migration's lock figures do not apply.
        "kept": {"report": done["export"], "rows": small, "figures": done["export"].figures(TABLE)
                 | {"lock_modes": None, "lock_held_ms": None, "values_lost": lost(done["live"], done["kept"]),
                    "restore_ms": round(done["load"].seconds * 1000)}},
        "dumpdata": {"rows": small, "figures": dumped},
    }
    for label, figures in measured.items():
        results[label] = {"rows": figures["rows"], "figures": figures}
    for label, report in during.items():
        results[label] = {"report": report, "rows": DUMP_ROWS, "figures": report.figures(TABLE)
                          | {"migration_outcome": "succeeded" if report.migration.ok else "failed"}}
    return results
