"""How long a release's command takes to start, forked from the zygote and as a new process.

Prints, asserts nothing: the median of 10 runs of ``manage.py check`` and of a deploy (a workload of the old
release, the migration, a workload of the new one) on SQLite, each way. Run it with ``nox -s bench``.
"""

from __future__ import annotations

import os
import statistics
import time

from lab import engines, zygote
from lab.releases import example_module
from lab.story import Story

RUNS = 10


def median_seconds(step) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    engine = engines.sqlite_engine()
    demo = example_module("change-a-column-type", "demonstration")
    quiet = Story(quiet=True)
    print(f"Starting a release's processes, median of {RUNS} runs, on {engine.label}:")
    for label, value in (("forked from the zygote", "1"), ("new processes", "0")):
        os.environ[zygote.VARIABLE] = value
        database = engine.create_database()
        try:
            demo.table(database, [demo.RELEASE_1], 1_000, quiet)
            check = median_seconds(lambda: demo.RELEASE_1.run("check", database=database))
            deploy = median_seconds(lambda: demo.deploy(database, demo.RELEASE_1, demo.RELEASE_1, quiet))
        finally:
            database.drop()
        print(f"  {label:24} manage.py check {check * 1000:>6,.0f} ms   a deploy {deploy * 1000:>6,.0f} ms")


if __name__ == "__main__":
    main()
