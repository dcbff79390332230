"""Every migration of the handbook's examples reverses in development, or says why it cannot.

For each release whose migrations are not all in another release of its example (the others are covered by it),
on SQLite and PostgreSQL: migrate forwards, back to zero (or to its last migration that cannot be reversed), and
forwards again. A migration with an operation Django cannot reverse (``RunSQL`` without ``reverse_sql``, say) must
say so in a comment that names the reverse.
"""

import hashlib
import json

import pytest

from lab.claims import check
from lab.releases import EXAMPLES, Release, releases

GUIDE = "go-forwards-only"

# Run in a process of the release: forwards, back as far as Django can go, forwards again; what happened, as JSON.
ROUND_TRIP = """
import json, sys
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

app = settings.HANDBOOK_APP_LABEL


def reversible(operation):
    # SeparateDatabaseAndState says it is reversible whatever its database operations are: look inside.
    inner = getattr(operation, "database_operations", None) or []
    return operation.reversible and all(reversible(op) for op in inner)


target = sys.argv[1] if len(sys.argv) > 1 else None
steps, irreversible = [], []
try:
    call_command("migrate", verbosity=0)
    steps.append("forwards")
    loader = MigrationExecutor(connection).loader
    plan = loader.graph.forwards_plan(loader.graph.leaf_nodes(app)[0])
    migrations = [loader.get_migration(*key) for key in plan if key[0] == app]
    irreversible = [m.name for m in migrations if not all(reversible(op) for op in m.operations)]
    back_to = target or (irreversible[-1] if irreversible else "zero")
    call_command("migrate", app, back_to, verbosity=0)
    steps.append(f"back to {back_to}")
    call_command("migrate", verbosity=0)
    steps.append("forwards again")
    error = None
except Exception as exc:
    error = f"{type(exc).__name__}: {exc}"
print(json.dumps({"steps": steps, "irreversible": irreversible, "error": error}))
"""


def _migrations(release: Release) -> frozenset:
    """The release's migration files, by name and content."""
    return frozenset((path.name, hashlib.sha256(path.read_bytes()).hexdigest())
                     for path in (release.path / "migrations").glob("0*.py"))


def leaf_releases() -> list[Release]:
    """Releases whose migrations are not all in another release of the same example."""
    found = []
    for example in sorted(p for p in EXAMPLES.iterdir() if (p / "settings.py").is_file()):
        chains = {release: _migrations(release) for release in releases(example.name)}
        found += [release for release, own in chains.items()
                  if not any(own < other for other in chains.values())]
    return found


LEAVES = leaf_releases()


def round_trip(release: Release, database, target: str | None = None) -> dict:
    """Forwards, back (to ``target``, or as far as Django can go), forwards again, in one process of ``release``."""
    run = release.run_python(ROUND_TRIP, *([target] if target else []), database=database)
    if not run.ok:
        return {"steps": [], "irreversible": [], "error": run.error_line()}
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("release", LEAVES, ids=lambda r: f"{r.slug}-{r.name}")
def test_every_migration_reverses_or_stops_at_one_that_says_why(release, development_engine, new_database):
    outcome = round_trip(release, new_database(development_engine))
    check(f"{release.slug}'s {release.name} migrates forwards, back and forwards again",
          lambda seen: seen["error"] is None and len(seen["steps"]) == 3, outcome,
          contrast="remove-a-field's release 3 reversed to zero, through its RunSQL without reverse_sql",
          against=lambda: round_trip(Release("remove-a-field", "release_3"), new_database(development_engine), "zero"),
          guide=GUIDE, engine=development_engine)
    for name in outcome["irreversible"]:
        source = (release.path / "migrations" / f"{name}.py").read_text()
        comments = " ".join(line for line in source.splitlines() if line.lstrip().startswith("#")).lower()
        assert "revers" in comments, f"{release.slug}/{release.name}/migrations/{name}.py cannot be reversed and " \
                                     "does not say why in a comment naming the reverse"


def test_the_leaves_cover_every_migration_of_every_example():
    covered = {(r.slug, name) for r in LEAVES for name, _ in _migrations(r)}
    every = {(r.slug, name) for example in EXAMPLES.iterdir() if (example / "settings.py").is_file()
             for r in releases(example.name) for name, _ in _migrations(r)}
    assert covered == every and len(LEAVES) < sum(1 for _ in EXAMPLES.glob("*/release_*"))
