"""A release's everyday traffic, as a site would send it, while a deploy happens.

An example's release defines ``workload.OPERATIONS``: a list of
``(kind, function)`` pairs, where kind is ``"read"`` or ``"write"`` and the
function does one request's database work through the ORM.

``python -m lab.workload`` runs them in a process of the release as several
concurrent clients, each a thread with its own database connection: readers
run the read operations, writers the write operations, independently, so a
writer stuck behind a lock does not stop the reads. Arrivals are open-loop:
each client's requests are scheduled at a fixed rate, and a request's
latency is measured from its *scheduled* start. A client that stalls for a
second therefore reports every request it should have sent in that second,
each with the time it waited (no coordinated omission).
"""

from __future__ import annotations

import argparse
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
KINDS = ("read", "write")


@dataclass(frozen=True)
class Traffic:
    """How many clients of each kind, and how often each sends a request."""

    readers: int = 4
    writers: int = 4
    period: float = 0.04  # seconds between one client's scheduled requests: 25 requests/s per client

    def args(self) -> list[str]:
        return ["--readers", str(self.readers), "--writers", str(self.writers), "--period", str(self.period)]

    def describe(self) -> str:
        rate = 1 / self.period
        return (f"{self.readers} readers and {self.writers} writers, each on its own connection, "
                f"{rate:.0f} requests/s each, open-loop")


DEFAULT_TRAFFIC = Traffic()


@dataclass(frozen=True)
class Sample:
    """One request: when it was due, when it began and ended (wall-clock seconds), and its error."""

    scheduled: float
    started: float
    ended: float
    kind: str
    name: str
    error: str | None
    client: int

    @property
    def ms(self) -> float:
        """What the site's user waited: from the request's scheduled start to its end."""
        return (self.ended - self.scheduled) * 1000


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
        """The requests of one kind, optionally only those pending at some point in [start, end]."""
        return [
            s for s in self.samples
            if (kind is None or s.kind == kind)
            and (start is None or s.ended >= start)
            and (end is None or s.scheduled <= end)
        ]

    def worst_ms(self, kind: str | None = None, start: float | None = None, end: float | None = None) -> float:
        """The longest request (of a kind, pending in a window), in ms; 0 if there was none."""
        return max((s.ms for s in self.of(kind, start, end)), default=0.0)

    def completed_within(self, kind: str, start: float, end: float) -> list[Sample]:
        """Requests of ``kind`` that began and succeeded entirely inside [start, end]."""
        return [s for s in self.samples
                if s.kind == kind and not s.error and s.started >= start and s.ended <= end]

    def window(self, kind: str, start: float, end: float, *, waited_ms: float) -> dict:
        """Per kind of request, during [start, end]: attempted, failed by error, waited beyond ``waited_ms``,
        latency p50 / p99 / max, and the longest stall (time with no request of that kind completing)."""
        due = [s for s in self.samples if s.kind == kind and start <= s.scheduled <= end]
        pending = self.of(kind, start, end)
        latencies = sorted(s.ms for s in pending)
        done = sorted(s.ended for s in self.samples if s.kind == kind and not s.error and start <= s.ended <= end)
        edges = [start, *done, end]
        return {
            "attempted": len(due),
            "failed": sum(1 for s in due if s.error),
            "errors": dict(Counter(s.error for s in due if s.error)),
            "waited": sum(1 for s in pending if s.ms > waited_ms),
            **percentiles(latencies),
            "longest_stall_ms": round(max(b - a for a, b in zip(edges, edges[1:])) * 1000) if end > start else 0,
        }

    def summary(self) -> str:
        """One line: requests by kind, errors by type, latency."""
        parts = []
        for kind in KINDS:
            latencies = sorted(s.ms for s in self.of(kind))
            if latencies:
                cut = percentiles(latencies)
                parts.append(f"{len(latencies)} {kind}s (p50 {cut['p50']:.1f} ms, p99 {cut['p99']:.1f} ms, "
                             f"max {cut['max']:.1f} ms)")
        errors = ", ".join(f"{count}× {error}" for error, count in self.errors.most_common()) or "no errors"
        return f"{self.release}: {'; '.join(parts) or 'no requests'}; {errors}"


def percentiles(sorted_values: list[float]) -> dict[str, float]:
    """p50, p99 and max of values already sorted, in ms, rounded; zeros when there are none."""
    if not sorted_values:
        return {"p50": 0.0, "p99": 0.0, "max": 0.0}
    if len(sorted_values) == 1:
        cut = sorted_values * 99
    else:
        cut = statistics.quantiles(sorted_values, n=100, method="inclusive")
    return {"p50": round(cut[49], 1), "p99": round(cut[98], 1), "max": round(sorted_values[-1], 1)}


class RunningWorkload:
    """A workload process of a release, started and ready; :meth:`stop` returns its report."""

    def __init__(self, release: Release, database: Database, traffic: Traffic = DEFAULT_TRAFFIC):
        self.release = release
        self.process = release.start("-m", "lab.workload", *traffic.args(), database=database, role="workload")
        line = self.process.stdout.readline().strip()
        if line != READY:
            self.process.kill()
            raise RuntimeError(f"The workload of {release.name} did not start: {line}{self.process.stderr.read()}")

    def stop(self) -> WorkloadReport:
        """Ask every client to finish its current request, then collect the report."""
        self.process.send_signal(signal.SIGTERM)
        out, err = self.process.communicate(timeout=120)
        if self.process.returncode != 0:
            raise RuntimeError(f"The workload of {self.release.name} crashed:\n{err}")
        return WorkloadReport(self.release.name, [Sample(*row) for row in json.loads(out)])


def _client(number: int, kind: str, operations: list, traffic: Traffic, warmed: threading.Barrier,
            start: list[float], stop: threading.Event, samples: list) -> None:
    """One client: warms up, then sends requests due every ``period`` from its start, whether or not it kept up."""
    from django.db import connection

    # Connecting and a first request cost tens of ms: do them before any request is timed.
    try:
        connection.ensure_connection()
        operations[0]()
    except Exception:  # a release whose requests fail still warms its connection
        if not connection.is_usable():
            connection.close()
    warmed.wait()
    due = start[0] + traffic.period * number / max(warmed.parties - 1, 1)
    turn = 0
    try:
        while not stop.is_set():
            if (ahead := due - time.time()) > 0 and stop.wait(ahead):
                break
            function = operations[turn % len(operations)]
            started = time.time()
            try:
                function()
                error = None
            except Exception as exc:  # the point is to record what old code meets
                error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
                if not connection.is_usable():
                    connection.close()
            samples.append((due, started, time.time(), kind, function.__name__, error, number))
            turn += 1
            due += traffic.period
    finally:
        connection.close()


def _run(traffic: Traffic) -> None:
    """Inside the release's process: start the clients, print READY, report every request as JSON at SIGTERM."""
    import importlib

    import django
    from django.conf import settings

    django.setup()
    operations = importlib.import_module(f"{settings.HANDBOOK_RELEASE}.workload").OPERATIONS
    by_kind = {kind: [function for k, function in operations if k == kind] for kind in KINDS}
    counts = {"read": traffic.readers, "write": traffic.writers}
    clients = [(kind, index) for kind in KINDS if by_kind[kind] for index in range(counts[kind])]
    stop = threading.Event()
    # SIGTERM is taken by sigwait below, not by a handler: a handler calling stop.set() can deadlock on the
    # event's lock when the signal lands while this thread holds it. Threads inherit the blocked mask.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    samples: list = []
    start: list[float] = []
    # Every client and this thread meet once all are warm; clients then start staggered across one period.
    warmed = threading.Barrier(len(clients) + 1, action=lambda: start.append(time.time()))
    threads = [
        threading.Thread(target=_client, args=(number, kind, by_kind[kind], traffic, warmed, start, stop, samples))
        for number, (kind, _) in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    warmed.wait()
    print(READY, flush=True)
    signal.sigwait({signal.SIGTERM})
    stop.set()
    for thread in threads:
        thread.join()
    json.dump(samples, sys.stdout)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lab.workload", description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=DEFAULT_TRAFFIC.readers)
    parser.add_argument("--writers", type=int, default=DEFAULT_TRAFFIC.writers)
    parser.add_argument("--period", type=float, default=DEFAULT_TRAFFIC.period)
    options = parser.parse_args(argv)
    _run(Traffic(options.readers, options.writers, options.period))


if __name__ == "__main__":
    main()
