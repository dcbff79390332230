"""A release's everyday traffic, run in a loop while a deploy happens.

An example's release defines ``workload.OPERATIONS``: a list of
``(kind, function)`` pairs, where kind is ``"read"`` or ``"write"`` and the
function does one request's database work through the ORM. This module runs
them round-robin in a process of the release (``python -m lab.workload``) and
reports every operation: when it started, how long it took, and the error it
raised, if any.
"""

from __future__ import annotations

import json
import signal
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass

from .engines import Database
from .releases import Release

READY = "ready"


@dataclass(frozen=True)
class Sample:
    """One operation: start (wall-clock seconds), latency in ms, and the error it raised."""

    started: float
    kind: str
    name: str
    ms: float
    error: str | None


@dataclass
class WorkloadReport:
    """Everything one workload process did."""

    release: str
    samples: list[Sample]

    @property
    def operations(self) -> int:
        return len(self.samples)

    @property
    def errors(self) -> Counter:
        """Errors by their type and first line."""
        return Counter(sample.error for sample in self.samples if sample.error)

    def of(self, kind: str | None = None, start: float | None = None, end: float | None = None) -> list[Sample]:
        """The samples of one kind, optionally only those running at some point in [start, end]."""
        return [
            s for s in self.samples
            if (kind is None or s.kind == kind)
            and (start is None or s.started + s.ms / 1000 >= start)
            and (end is None or s.started <= end)
        ]

    def worst_ms(self, kind: str | None = None, start: float | None = None, end: float | None = None) -> float:
        """The longest operation (of a kind, in a window), in ms; 0 if there was none."""
        return max((s.ms for s in self.of(kind, start, end)), default=0.0)

    def percentiles(self, kind: str | None = None) -> dict[str, float]:
        """p50, p99 and max latency in ms."""
        values = sorted(s.ms for s in self.of(kind))
        if not values:
            return {"p50": 0.0, "p99": 0.0, "max": 0.0}
        cut = statistics.quantiles(values, n=100, method="inclusive") if len(values) > 1 else values * 99
        return {"p50": round(cut[49], 2), "p99": round(cut[98], 2), "max": round(values[-1], 2)}

    def summary(self) -> str:
        """One line: operations, errors by type, latency."""
        latency = self.percentiles()
        errors = ", ".join(f"{count}× {error}" for error, count in self.errors.most_common()) or "no errors"
        return (f"{self.release}: {self.operations} operations, {errors}; latency p50 {latency['p50']:.1f} ms, "
                f"p99 {latency['p99']:.1f} ms, max {latency['max']:.1f} ms")


class RunningWorkload:
    """A workload process of a release, started and ready; :meth:`stop` returns its report."""

    def __init__(self, release: Release, database: Database, *, interval: float = 0.004):
        self.release = release
        self.process = release.start("-m", "lab.workload", str(interval), database=database, role="workload")
        line = self.process.stdout.readline().strip()
        if line != READY:
            self.process.kill()
            raise RuntimeError(f"The workload of {release.name} did not start: {line}{self.process.stderr.read()}")

    def stop(self) -> WorkloadReport:
        """Ask the process to finish its current operation and report."""
        self.process.send_signal(signal.SIGTERM)
        out, err = self.process.communicate(timeout=60)
        if self.process.returncode != 0:
            raise RuntimeError(f"The workload of {self.release.name} crashed:\n{err}")
        samples = [Sample(*row) for row in json.loads(out)]
        return WorkloadReport(self.release.name, samples)


def _run(interval: float) -> None:
    """The loop inside the release's process; prints READY, then the samples as JSON at SIGTERM."""
    import importlib

    import django
    from django.conf import settings
    from django.db import connection

    django.setup()
    operations = importlib.import_module(f"{settings.HANDBOOK_RELEASE}.workload").OPERATIONS
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    samples = []
    print(READY, flush=True)
    while not stop.is_set():
        for kind, function in operations:
            started, clock = time.time(), time.perf_counter()
            try:
                function()
                error = None
            except Exception as exc:  # the point is to record what old code meets
                error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
                if not connection.is_usable():
                    connection.close()
            samples.append((started, kind, function.__name__, (time.perf_counter() - clock) * 1000, error))
            time.sleep(interval)
    json.dump(samples, sys.stdout)


if __name__ == "__main__":
    _run(float(sys.argv[1]))
