"""How much traffic a site takes on this machine: the highest rate at which p99 stays under a bound.

The guides run their site at a stated fraction of its capacity (:data:`FRACTION`), so a figure means the same on a
faster machine as on a slower one: a stall piles up the same number of seconds of requests.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from .traffic import Load, run_for

P99_MS = 100.0  # the latency bound that defines capacity
FRACTION = 0.5  # the share of its capacity a guide's site serves
# The first rate tried. Every site of the lab has taken more so far, and the rates tried are still 100/s times a
# power of two, then halfway points: starting here saves two steps of the search and changes no result.
FIRST_RATE = 400.0
MIN_RATE = 5.0
MAX_RATE = 1600.0  # beyond this, the visitors' own process, not the site, is what is measured
STEP_SECONDS = 1.0
# A file where processes of one run (pytest-xdist's workers) share what they measured, set by the lab's pytest plugin.
SHARED_VARIABLE = "HANDBOOK_CAPACITY_FILE"


@dataclass
class Capacity:
    """The highest rate tried whose p99 stayed under :data:`P99_MS` with no failure, and every step tried."""

    rate: float
    steps: list[tuple[float, float, int]] = field(default_factory=list)  # (rate, p99 ms, failed)

    def describe(self) -> str:
        return f"{self.rate:.0f} requests/s (p99 under {P99_MS:.0f} ms, no failure)"


def _holds(address: str, rate: float, steps: list) -> bool:
    report = run_for(address, Load(rate, seed=len(steps) + 1), STEP_SECONDS)
    figures = report.window()
    steps.append((rate, figures["p99"], figures["failed"]))
    return figures["failed"] == 0 and figures["p99"] < P99_MS


def measure(address: str, *, refinements: int = 2) -> Capacity:
    """Double the rate until the site at ``address`` breaks the bound (or halve it until it holds), then halve the gap
    ``refinements`` times. A first second of traffic, not counted, opens the workers' connections and warms caches."""
    run_for(address, Load(FIRST_RATE / 2, seed=0), 1.0)
    steps: list[tuple[float, float, int]] = []
    good, bad = 0.0, FIRST_RATE
    if _holds(address, FIRST_RATE, steps):
        good, bad = FIRST_RATE, FIRST_RATE * 2
        while bad <= MAX_RATE and _holds(address, bad, steps):
            good, bad = bad, bad * 2
        if bad > MAX_RATE:
            return Capacity(good, steps)
    else:
        while bad > MIN_RATE:
            if _holds(address, bad / 2, steps):
                good = bad / 2
                break
            bad /= 2
        if not good:
            raise RuntimeError(f"the site breaks {P99_MS:.0f} ms at p99 even at {bad:.0f} requests/s: {steps}")
    for _ in range(refinements):
        middle = (good + bad) / 2
        if _holds(address, middle, steps):
            good = middle
        else:
            bad = middle
    return Capacity(good, steps)


def shared(key: str, measure_it: Callable[[], Capacity]) -> Capacity:
    """The capacity stored under ``key`` in the file :data:`SHARED_VARIABLE` names, or ``measure_it()``, stored
    there for the other processes of the run; with no such file, just ``measure_it()``. One process measures while
    the others wait: measuring side by side would only measure each other."""
    path = os.environ.get(SHARED_VARIABLE)
    if not path:
        return measure_it()
    with open(path, "a+") as file:
        fcntl.flock(file, fcntl.LOCK_EX)
        file.seek(0)
        known = json.loads(file.read() or "{}")
        if key not in known:
            found = measure_it()
            known[key] = {"rate": found.rate, "steps": found.steps}
            file.seek(0)
            file.truncate()
            file.write(json.dumps(known))
        return Capacity(known[key]["rate"], [tuple(step) for step in known[key]["steps"]])
