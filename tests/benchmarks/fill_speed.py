"""The batched fill command against one big UPDATE, at 10^6 rows on the embedded PostgreSQL.

Prints, asserts nothing: rows per second of each, and the worst a writer of
release 2's real site waited during each. Run it with ``nox -s bench``.
"""

from __future__ import annotations

from lab import engines
from lab.releases import example_module
from lab.site_verbs import ServingSite
from lab.story import Story

ROWS = 1_000_000


def main() -> None:
    engine = engines.embedded_postgres()
    demo = example_module("add-a-column-and-fill-it", "demonstration")
    quiet = Story(quiet=True)
    results = {}
    for label, step in (("fill command", demo.fill_with_command), ("one UPDATE", demo.fill_with_one_update)):
        database = engine.create_database()
        try:
            demo.customers_table(database, ROWS, quiet, release=demo.NULLABLE)
            with ServingSite(database, demo.NULLABLE, quiet) as site:
                report = step(site)
            results[label] = (ROWS / report.migration.seconds, report.old_during_migration("write"))
        finally:
            database.drop()
    print(f"Filling a new column on {ROWS:,} rows, {engine.label}, while release 2's site serves:")
    for label, (rate, wait) in results.items():
        print(f"  {label:14} {rate:>12,.0f} rows/s   writer's worst wait {wait:>8,.0f} ms")
    (command_rate, command_wait), (update_rate, update_wait) = results.values()
    print(f"  one UPDATE / fill command: {update_rate / command_rate:.1f}x the speed, "
          f"{update_wait / max(command_wait, 1):.0f}x the worst wait")


if __name__ == "__main__":
    main()
