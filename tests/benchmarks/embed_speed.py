"""Speed of the handbook site: prints figures, asserts nothing.

1. Requests per second for one embedded page, against the same page of the
   HTML build served as a plain file, by the same server process
   (``manage.py runserver``, what ``nox -s serve`` runs). Target: the
   embedded page at least 0.5x the static file.
2. The JSON build from cold, against the rebuild after one page changed.
   Target: the rebuild at most 0.2x the cold build. Measured twice: as
   ``sphinx-build`` processes (what a command line or sphinx-autobuild
   pays, interpreter start and imports included), and as builds inside one
   running process (Sphinx's own work).

Run it with ``nox -s bench``.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EMBEDDED = "/handbook/docs/checklist/"
STATIC = "/standalone/docs/checklist.html"
REQUESTS = 400
ROUNDS = 3


def sphinx_arguments(builder: str, source: Path, outdir: Path, *options: str) -> list[str]:
    return ["-b", builder, "-c", str(source / "conf"), "-q", *options, str(source), str(outdir)]


def sphinx(builder: str, source: Path, outdir: Path, *options: str) -> float:
    """Seconds one sphinx-build run takes, in a fresh process like a user's."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sphinx", *sphinx_arguments(builder, source, outdir, *options)], check=True)
    return time.perf_counter() - started


def sphinx_in_process(builder: str, source: Path, outdir: Path, *options: str) -> float:
    """Seconds one build takes inside this process, its modules already imported."""
    from sphinx.cmd.build import build_main

    started = time.perf_counter()
    if build_main(sphinx_arguments(builder, source, outdir, *options)) != 0:
        raise SystemExit(f"The build of {source} failed.")
    return time.perf_counter() - started


def copy_sources(into: Path) -> Path:
    """A copy of what Sphinx reads, so that touching a page leaves the checkout alone."""
    for folder in ("conf", "docs", "guides", "examples"):
        if (REPO / folder).exists():
            shutil.copytree(REPO / folder, into / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return into


def build_figures(work: Path, run) -> tuple[float, float]:
    """Cold build, then the rebuild after one page changed, both run by ``run``."""
    source = copy_sources(work / "src")
    outdir = work / "json"
    cold = run("json", source, outdir, "-t", "embed")
    page = source / "docs" / "checklist.md"
    page.write_text(page.read_text() + "\n")
    incremental = run("json", source, outdir, "-t", "embed")
    return cold, incremental


def print_build_figures(work: Path, run, label: str) -> None:
    cold_runs, incremental_runs = zip(*(build_figures(work / f"{label}-{n}", run) for n in range(ROUNDS)), strict=True)
    cold, incremental = statistics.median(cold_runs), statistics.median(incremental_runs)
    print(f"  {label}: cold {cold:5.2f} s, after touching a page {incremental:5.2f} s (medians of {ROUNDS}),"
          f" incremental / cold = {incremental / cold:.2f}   (target <= 0.2)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"The server stopped: {server.stderr.read()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("The server did not start within 30 s.")


def requests_per_second(port: int, path: str) -> float:
    """Sequential GETs of ``path``, one connection each; the best of a few rounds."""
    rates = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(REQUESTS):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
            connection.close()
            if response.status != 200 or not body:
                raise SystemExit(f"{path} answered {response.status}")
        rates.append(REQUESTS / (time.perf_counter() - started))
    return max(rates)


def serving_figures(work: Path) -> tuple[float, float]:
    sphinx("json", copy_sources(work / "src"), work / "build" / "json", "-t", "embed")
    sphinx("html", work / "src", work / "build" / "html")
    port = free_port()
    environment = {
        **os.environ,
        "HANDBOOK_BUILD_ROOT": str(work / "build"),
        "HANDBOOK_SITE_DB": str(work / "site.sqlite3"),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "benchmark-only-" + os.urandom(24).hex(),
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v", "0"], cwd=REPO, env=environment, check=True)
    server = subprocess.Popen(
        [*manage, "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=REPO, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_until_up(port, server)
        requests_per_second(port, EMBEDDED)  # warm-up: loads the build once
        return requests_per_second(port, EMBEDDED), requests_per_second(port, STATIC)
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    import django

    print(f"Python {sys.version.split()[0]}, Django {django.get_version()}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="handbook-bench-") as tmp:
        work = Path(tmp)
        print(f"Serving: {ROUNDS} rounds of {REQUESTS} sequential requests each, best round ...", flush=True)
        embedded, static = serving_figures(work)
        print(f"  embedded page {EMBEDDED:40} {embedded:8.0f} requests/s")
        print(f"  static file   {STATIC:40} {static:8.0f} requests/s")
        print(f"  embedded / static = {embedded / static:.2f}   (target >= 0.5)")

        pages = len(list((work / "build" / "json").rglob("*.fjson")))
        print(f"Building the JSON pages ({pages} pages) ...", flush=True)
        print_build_figures(work, sphinx, "sphinx-build processes")
        build_figures(work / "warm-up", sphinx_in_process)  # imports Sphinx and the extensions
        print_build_figures(work, sphinx_in_process, "builds in one process")


if __name__ == "__main__":
    main()
