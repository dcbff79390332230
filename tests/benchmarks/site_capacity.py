"""The capacity of the lab's real site on this machine, the rate the guides' site runs at, and the cost of a stall.

Prints, asserts nothing. Serves guide lock-timeout-and-retries' release 1 (gunicorn instances of sync workers
behind nginx) on the embedded PostgreSQL and measures its capacity: the highest rate of Poisson arrivals at which
p99 stays under 100 ms with no failure, every step shown. The guides run at half of it. Then, at that half, how
many requests are in flight after the site has stalled for 1 s, which is what a lock queue piles up.

Run it with ``nox -s bench`` (nginx from the system's packages).
"""

from __future__ import annotations

import time

from lab import capacity, engines
from lab.releases import example_module
from lab.site import Shape, Site
from lab.story import Story
from lab.traffic import Load, run_for


def main() -> None:
    engine = engines.embedded_postgres()
    demo = example_module("lock-timeout-and-retries", "demonstration")
    database = engine.create_database()
    try:
        demo.shop_tables(database, 100_000, Story(quiet=True))
        shape = Shape()
        with Site(demo.RELEASE_1, database, shape) as site:
            started = time.perf_counter()
            found = capacity.measure(site.address)
            print(f"{shape.describe()}, {engine.label}, 100,000 orders")
            print(f"{'rate (req/s)':>14} {'p99 (ms)':>10} {'failed':>8}")
            for rate, p99, failed in found.steps:
                print(f"{rate:>14.0f} {p99:>10.1f} {failed:>8}")
            print(f"capacity: {found.describe()}, measured in {time.perf_counter() - started:.1f} s")
            half = found.rate * capacity.FRACTION
            report = run_for(site.address, Load(half), 3.0)
            figures = report.window()
            print(f"at {capacity.FRACTION:.0%} of it ({half:.0f} req/s) for 3 s: p50 {figures['p50']:.1f} ms, "
                  f"p99 {figures['p99']:.1f} ms, {figures['failed']} failed, {figures['in_flight_max']} in flight "
                  f"at most; a 1 s stall piles up about {half:.0f} requests on {shape.instances * shape.workers} "
                  "workers")
    finally:
        database.drop()


if __name__ == "__main__":
    main()
