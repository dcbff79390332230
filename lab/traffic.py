"""A site's visitors: open-loop HTTP requests at a set rate, each with a timeout, as many in flight as it takes.

``python -m lab.traffic URL --rate R`` asks the site at URL for its operations (``/ops``, see
:mod:`lab.site_urls`) and sends requests to them as Poisson arrivals at ``R`` requests per second in all: half on
the tables the guide changes, half on a table it leaves alone, when the release has such operations. Arrivals
do not wait for answers: when the site stalls, requests pile up, as visitors do, up to ``--cap`` in flight (a
request that arrives beyond the cap is counted as dropped, a failure). A request that has no answer
``--timeout`` seconds after it arrived is a failure, like a 5xx or a connection error. At SIGTERM (or after
``--seconds``) it stops sending, waits for the requests in flight, and prints every request as JSON.

:class:`RunningTraffic` runs it beside a deploy; :class:`TrafficReport` gives the figures per group and window.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .example_settings import RELEASE_HEADER
from .site import die_with_parent
from .workload import percentiles

READY = "ready"
REPO = Path(__file__).resolve().parents[1]
TIMEOUT, FIVE_XX, ERROR, DROPPED = "timeout", "5xx", "error", "dropped"
FAILURES = (TIMEOUT, FIVE_XX, ERROR, DROPPED)


@dataclass(frozen=True)
class Load:
    """How the visitors come: requests per second in all, each one's timeout, the most in flight, the seed."""

    rate: float
    timeout: float = 3.0
    cap: int = 2000
    seed: int = 1

    def args(self) -> list[str]:
        return ["--rate", f"{self.rate:g}", "--timeout", f"{self.timeout:g}", "--cap", str(self.cap),
                "--seed", str(self.seed)]

    def describe(self) -> str:
        return (f"{self.rate:.0f} requests/s arriving at random (Poisson), each given up after "
                f"{self.timeout:g} s, at most {self.cap} in flight")


@dataclass(frozen=True)
class Request:
    """One visitor's request: when it arrived, was sent and ended (wall-clock seconds), where, and how it ended."""

    scheduled: float
    started: float
    ended: float
    name: str
    group: str
    status: int | None
    failure: str | None  # one of FAILURES, or None
    detail: str | None = None  # a 500's error, as the site's page names it (lab.site_urls)
    release: str | None = None  # the release whose instance answered; None when no instance did

    @property
    def ms(self) -> float:
        """What the visitor waited: from arrival to the answer, or to giving up."""
        return (self.ended - self.scheduled) * 1000


@dataclass
class TrafficReport:
    """Every request the visitors sent."""

    load: Load
    requests: list[Request] = field(default_factory=list)

    def of(self, group: str | None = None, start: float | None = None, end: float | None = None) -> list[Request]:
        """Requests of ``group`` (all if None) that arrived within [start, end]."""
        return [r for r in self.requests if (group is None or r.group == group)
                and (start is None or r.scheduled >= start) and (end is None or r.scheduled <= end)]

    def window(self, group: str | None = None, start: float | None = None, end: float | None = None) -> dict:
        """The figures of the requests that arrived within [start, end]: how many, failures of each kind, latency
        p50 / p99 / max (failures counted at the time they failed), and the most in flight at once."""
        chosen = self.of(group, start, end)
        failures = Counter(r.failure for r in chosen if r.failure)
        return {
            "requests": len(chosen),
            "failed": sum(failures.values()),
            **{kind: failures.get(kind, 0) for kind in FAILURES},
            **percentiles(sorted(r.ms for r in chosen)),
            "in_flight_max": in_flight_max(chosen),
        }

    def first_failure(self, group: str | None = None) -> Request | None:
        failed = [r for r in self.of(group) if r.failure]
        return min(failed, key=lambda r: r.scheduled) if failed else None

    def summary(self) -> str:
        parts = []
        for group in sorted({r.group for r in self.requests}):
            w = self.window(group)
            parts.append(f"{group}: {w['requests']} requests, {w['failed']} failed ({w['timeout']} timeouts, "
                         f"{w['5xx']} 5xx, {w['error']} errors, {w['dropped']} dropped), p50 {w['p50']:.0f} ms, "
                         f"p99 {w['p99']:.0f} ms, max {w['max']:.0f} ms, {w['in_flight_max']} in flight at most")
        return "; ".join(parts) or "no requests"


def in_flight_max(requests: list[Request]) -> int:
    """The most requests that had arrived and not yet ended, at any moment."""
    events = sorted([(r.scheduled, 1) for r in requests] + [(r.ended, -1) for r in requests])
    most = now = 0
    for _, step in events:
        now += step
        most = max(most, now)
    return most


class RunningTraffic:
    """Visitors of the site at ``url``, arriving from the moment this returns; :meth:`stop` returns the report."""

    def __init__(self, url: str, load: Load):
        self.load = load
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
        self.process = subprocess.Popen([sys.executable, "-m", "lab.traffic", url, *load.args()], env=environment,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        preexec_fn=die_with_parent)
        line = self.process.stdout.readline().strip()
        if line != READY:
            self.process.kill()
            raise RuntimeError(f"The site's traffic did not start: {line}{self.process.stderr.read()}")

    def stop(self) -> TrafficReport:
        """Stop sending, wait for the requests in flight (at most the timeout), and collect the report."""
        self.process.send_signal(signal.SIGTERM)
        out, err = self.process.communicate(timeout=self.load.timeout + 60)
        if self.process.returncode != 0:
            raise RuntimeError(f"The site's traffic crashed:\n{err}")
        return TrafficReport(self.load, [Request(*row) for row in json.loads(out)])


def run_for(url: str, load: Load, seconds: float) -> TrafficReport:
    """Visitors of the site at ``url`` for ``seconds``."""
    traffic = RunningTraffic(url, load)
    time.sleep(seconds)
    return traffic.stop()


async def _visit(url: str, load: Load, stopping: asyncio.Event, seconds: float | None) -> list[tuple]:
    import aiohttp

    loop = asyncio.get_running_loop()
    offset = time.time() - loop.time()  # the loop's clock to wall-clock seconds
    # No limit on connections: the cap below is the only bound on requests in flight. Each visitor's request has a
    # connection of its own, as different visitors do: no request is lost to nginx closing an idle kept-alive
    # connection at a reload just as it is reused, which clients retry and this one would count as a failure.
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None)) as session:
        async with session.get(f"{url}/ops") as answer:
            operations = await answer.json()
        groups: dict[str, list[tuple[str, str]]] = {}
        for name, about in operations.items():
            groups.setdefault(about["group"], []).append((name, "POST" if about["kind"] == "write" else "GET"))
        rng = random.Random(load.seed)
        done: list[tuple] = []
        in_flight: set[asyncio.Task] = set()

        async def one(name: str, group: str, method: str, scheduled: float) -> None:
            started = loop.time()
            status = failure = detail = release = None
            try:
                async with asyncio.timeout_at(scheduled + load.timeout):
                    async with session.request(method, f"{url}/op/{name}") as answer:
                        body = await answer.read()
                        status, release = answer.status, answer.headers.get(RELEASE_HEADER)
                failure = FIVE_XX if status >= 500 else ERROR if status >= 400 else None
                if status == 500:  # the site's own error page: its first line names the error
                    detail = body.decode(errors="replace").strip().split("\n")[0][:300] or None
            except TimeoutError:
                failure = TIMEOUT
            except (aiohttp.ClientError, OSError):
                failure = ERROR
            done.append((scheduled + offset, started + offset, loop.time() + offset, name, group, status, failure,
                         detail, release))

        print(READY, flush=True)
        due = loop.time()
        until = due + seconds if seconds else None
        while not stopping.is_set() and (until is None or due < until):
            due += rng.expovariate(load.rate)
            if (ahead := due - loop.time()) > 0:
                try:
                    await asyncio.wait_for(stopping.wait(), ahead)
                    break
                except TimeoutError:
                    pass
            group = rng.choice(sorted(groups))
            name, method = rng.choice(groups[group])
            if len(in_flight) >= load.cap:
                at = due + offset
                done.append((at, at, at, name, group, None, DROPPED))
                continue
            task = asyncio.create_task(one(name, group, method, due))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        if in_flight:
            await asyncio.wait(set(in_flight))
    return done


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lab.traffic", description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the site, e.g. http://127.0.0.1:8080")
    parser.add_argument("--rate", type=float, required=True, help="requests per second in all")
    parser.add_argument("--timeout", type=float, default=Load.timeout, help="seconds before a visitor gives up")
    parser.add_argument("--cap", type=int, default=Load.cap, help="most requests in flight")
    parser.add_argument("--seed", type=int, default=Load.seed)
    parser.add_argument("--seconds", type=float, help="stop after this long (default: at SIGTERM)")
    options = parser.parse_args(argv)
    if options.rate <= 0 or options.timeout <= 0 or options.cap < 1:
        parser.error("--rate and --timeout must be positive, --cap at least 1")
    load = Load(options.rate, options.timeout, options.cap, options.seed)

    async def run() -> list[tuple]:
        stopping = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
        return await _visit(options.url.rstrip("/"), load, stopping, options.seconds)

    json.dump(asyncio.run(run()), sys.stdout)


if __name__ == "__main__":
    main()
