"""A writer's worst wait during a plain and a concurrent index build, by table size.

Prints, asserts nothing. Runs guide add-index-concurrently's example on the
embedded PostgreSQL at 10^5, 10^6 and 3x10^6 rows: the plain build's wait
grows with the rows, the concurrent build's stays flat. Target: at the largest
size the concurrent wait is at most 1/20 of the plain one. Also prints how
long the embedded server takes to start.

Run it with ``nox -s bench``.
"""

from __future__ import annotations

import time

from lab import engines
from lab.releases import example_module
from lab.story import Story

SIZES = (100_000, 1_000_000, 3_000_000)


def main() -> None:
    started = time.perf_counter()
    engine = engines.embedded_postgres()
    print(f"Embedded {engine.label}: initdb and start in {time.perf_counter() - started:.2f} s")
    demo = example_module("add-index-concurrently", "demonstration")
    quiet = Story(quiet=True)
    print(f"{'rows':>10} {'plain: worst write (ms)':>26} {'concurrent: worst write (ms)':>30} {'ratio':>8}")
    for rows in SIZES:
        waits = {}
        for label, release in (("plain", demo.UNSAFE), ("concurrent", demo.SAFE)):
            database = engine.create_database()
            try:
                demo.orders_table(database, rows, quiet)
                report = demo.deploy(database, release, quiet)
                waits[label] = report.old_during_migration("write")
            finally:
                database.drop()
        ratio = waits["concurrent"] / waits["plain"] if waits["plain"] else float("nan")
        print(f"{rows:>10,} {waits['plain']:>26.0f} {waits['concurrent']:>30.0f} {ratio:>8.3f}", flush=True)
    print("Target: at 3,000,000 rows the concurrent wait is at most 1/20 (0.050) of the plain one.")


if __name__ == "__main__":
    main()
