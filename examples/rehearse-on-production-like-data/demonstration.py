"""The guide's rehearsal: release 2 as makemigrations wrote it, then as edited, each rehearsed on a copy of
release 1's database filled to production's size, with ``manage.py rehearse``.

Used by ``nox -s demo -- rehearse-on-production-like-data`` (to tell it), by ``nox -s evidence`` (to record it,
with the command's own output, for the guide) and by the tests (to check it).
"""

from __future__ import annotations

import json

from handbook_rehearse import lockreads
from lab import verbs
from lab.releases import Release
from lab.story import Story

SLUG = "rehearse-on-production-like-data"
TABLE = "shop_order"
COLUMNS = {"customer_id": "i % 50000", "total_cents": "i % 10000", "status": "'paid'"}
RELEASE_1 = Release(SLUG, "release_1")
GENERATED = Release(SLUG, "release_2")  # an index and a nullable field, as makemigrations wrote them
EDITED = Release(SLUG, "release_2_edited")  # the index built concurrently
BUDGET = "0.2"  # seconds: this example's team's budget, for locks that block writes and for request waits
OPERATIONS = {"generated": "rehearse (AddIndex, AddField)", "edited": "rehearse (AddIndexConcurrently, AddField)",
              "refused": "rehearse on SQLite"}
MIGRATION_STEPS: list[str] = []  # each step is a whole rehearsal, not one migration the lock reference could list
SQL = [("release_2", "shop", "0002"), ("release_2_edited", "shop", "0002")]


def orders_table(database, rows: int, story: Story) -> None:
    """Release 1's schema with ``rows`` orders: the copy of production the rehearsal runs on."""
    verbs.filled_table(database, [RELEASE_1], TABLE, COLUMNS, rows, story)


def metadata_lock_plugin(database) -> None:
    """On MariaDB, install the ``metadata_lock_info`` plugin if it is not active yet, as the guide tells a team to:
    without it the rehearsal cannot see lock modes."""
    with database.connect() as connection:
        missing = lockreads.metadata_lock_view(connection.cursor(), install=True)
    if missing:
        raise RuntimeError(missing)


def rehearse(database, release: Release, story: Story, budget: str = BUDGET, wait: str | None = None) -> dict:
    """``manage.py rehearse`` run by ``release`` on ``database``, with ``budget`` for locks and ``wait`` (else
    ``budget``) for requests: its exit status, text output and JSON report."""
    if database.engine.vendor == "mysql":
        metadata_lock_plugin(database)
    with story.step(f"Rehearsing {release.name}'s migrations on a copy of release_1's database"):
        run = release.run("rehearse", "--noinput", "--max-lock", budget, "--max-wait", wait or budget, "--json", "-",
                          database=database)
    if run.returncode not in (0, 1):
        raise RuntimeError(f"rehearse could not run:\n{run.stderr}")
    text = _text_of(run.stderr)
    story.say(text)
    return {"status": run.returncode, "text": text, "report": json.loads(run.stdout)}


def _text_of(stderr: str) -> str:
    """The report's text (the command prints it on standard error when the JSON takes standard output), without
    the progress lines and the closing error."""
    kept = [line for line in stderr.splitlines()
            if not line.startswith(("Rehearsing ", "Filling ", "CommandError: "))]
    return "\n".join(kept).strip() + "\n"


def figures(outcome: dict) -> dict:
    """What the guide quotes from one rehearsal."""
    report = outcome["report"]
    migrations = report["migrations"]
    blocking = [lock["held_ms"] for m in migrations for lock in m["locks"] if lock["blocks_writes"]]
    visible = all(m["lock_modes_visible"] for m in migrations)
    return {
        "exit_status": outcome["status"],
        "failed_migrations": sum(1 for m in migrations if not m["passed"]),
        "write_lock_ms": round(max(blocking, default=0.0), 1) if visible else None,
        "worst_write_ms": max(m["requests"]["writes"]["worst_wait_ms"] for m in migrations),
        "worst_read_ms": max(m["requests"]["reads"]["worst_wait_ms"] for m in migrations),
        "failed_requests": sum(m["requests"]["failed_count"] for m in migrations),
        # What those requests met, each error once: "none" when none failed.
        "failures": "; ".join(sorted({f["error"][:90] for m in migrations for f in m["requests"]["failed"]})) or "none",
        "lock_findings": sum(1 for m in migrations for f in m["findings"] if f["rule"] in ("lock", "wait")),
        "pages": sorted({f["page"] for m in migrations for f in m["findings"]}),
    }


def demonstrate(engine, rows: int, story: Story, new_database) -> dict:
    """Both releases rehearsed on copies of the same filled database; their figures, and their output written
    beside the evidence for the guide to show."""
    results = {}
    for label, release in (("generated", GENERATED), ("edited", EDITED)):
        story.heading(f"{'As makemigrations wrote it' if label == 'generated' else 'Edited'}: {release.name}")
        database = new_database(engine)
        orders_table(database, rows, story)
        if engine.vendor == "sqlite":  # the command refuses: one step says how
            run = release.run("rehearse", "--noinput", database=database)
            return {"refused": {"figures": {"exit_status": run.returncode, "error": run.error_line()}}}
        outcome = rehearse(database, release, story)
        # The output as the command printed it, for the guide: nox -s evidence writes it beside the figures.
        results[label] = {"figures": figures(outcome), "files": {f"rehearse-{label}-{engine.id}.txt": outcome["text"]}}
    return results
