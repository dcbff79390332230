"""The site on its production server (gunicorn, WhiteNoise): prints figures, asserts nothing.

1. Side by side in one run: an embedded page against the same page of the HTML build served as a static file by
   WhiteNoise, from the same gunicorn. Concurrent clients, each on its own process, request without pause (closed
   loop); rounds alternate. The embedded page is asked for with no cookie (answered by RenderedPagesMiddleware
   after the first time) and with a cookie (rendered for each request, as for a signed-in reader). Target: the
   embedded page at least 0.8x the static file.
2. Publishing while serving: the same clients on embedded pages while new builds are published one after the
   other, 0.5 s apart (``python -m handbook_embed.publish``), against the same load without publishing. Requests
   lost, pages mixed from two builds, and the latency a reload costs.

Run it with ``nox -s bench``.
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.production import free_port, gunicorn_environment, marked_copy, prepare, serve  # noqa: E402

EMBEDDED = "/handbook/docs/checklist/"
STATIC = "/static/bench/checklist.html"
CLIENTS = 8
SECONDS = 4
ROUNDS = 3
MARK = re.compile(rb"build-mark-\d+")


def client(port: int, path: str, until: float, cookie: str) -> tuple[list[float], int, set[bytes], int]:
    """Requests ``path`` until ``until``: latencies (s), failures, build marks seen, pages holding two marks."""
    latencies, failed, seen, mixed = [], 0, set(), 0
    headers = {"Cookie": cookie} if cookie else {}
    while time.time() < until:
        started = time.perf_counter()
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read()
            connection.close()
            ok = response.status == 200 and bool(body)
        except OSError:
            ok, body = False, b""
        latencies.append(time.perf_counter() - started)
        failed += not ok
        marks = set(MARK.findall(body))
        seen |= marks
        mixed += len(marks) > 1
    return latencies, failed, seen, mixed


def load(port: int, path: str, seconds: float = SECONDS, cookie: str = "") -> dict:
    """``CLIENTS`` processes requesting ``path`` for ``seconds``: rate, latency percentiles, failures."""
    until = time.time() + seconds
    with multiprocessing.Pool(CLIENTS) as pool:
        results = pool.starmap(client, [(port, path, until, cookie)] * CLIENTS)
    latencies = sorted(latency for result in results for latency in result[0])
    return {
        "rate": len(latencies) / seconds,
        "p50": latencies[len(latencies) // 2] * 1000,
        "p99": latencies[int(len(latencies) * 0.99)] * 1000,
        "max": latencies[-1] * 1000,
        "requests": len(latencies),
        "failed": sum(result[1] for result in results),
        "seen": set().union(*(result[2] for result in results)),
        "mixed": sum(result[3] for result in results),
    }


def sphinx(builder: str, outdir: Path, *options: str) -> None:
    subprocess.run([sys.executable, "-m", "sphinx", "-b", builder, "-c", str(REPO / "conf"), "-q", *options,
                    str(REPO), str(outdir)], check=True)


def publish_every(seconds: float, stop: threading.Event, source: Path, builds: Path, link: Path) -> list[float]:
    """Publish a new marked build every ``seconds`` until ``stop``; how long each publish took."""
    took, number = [], 2
    while not stop.wait(seconds):
        build = marked_copy(source, builds / str(number), f"build-mark-{number}")
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "handbook_embed.publish", str(build), "--link", str(link),
                        "--keep", "3"], cwd=REPO / "conf", check=True, capture_output=True)
        took.append(time.perf_counter() - started)
        number += 1
    return took


def row(label: str, figures: dict) -> str:
    return (f"  {label:<34} {figures['rate']:7.0f} req/s   p50 {figures['p50']:6.1f} ms   p99 {figures['p99']:6.1f}"
            f" ms   max {figures['max']:6.1f} ms   failed {figures['failed']}")


def main() -> None:
    import django
    import gunicorn

    with tempfile.TemporaryDirectory(prefix="handbook-production-") as tmp:
        work = Path(tmp)
        sphinx("json", work / "json", "-t", "embed")
        sphinx("html", work / "build" / "html")
        marked_copy(work / "json", work / "builds" / "1", "build-mark-1")
        (work / "build" / "json").symlink_to(work / "builds" / "1", target_is_directory=True)
        environment = gunicorn_environment(work / "build", work, free_port(), 2 * (os.cpu_count() or 1) + 1)
        prepare(environment)
        # The same page as a plain file, for WhiteNoise to serve (it lists its folder when the server starts).
        (work / "static" / "bench").mkdir()
        shutil.copy(work / "build" / "html" / "docs" / "checklist.html", work / "static" / "bench")
        server = serve(environment, work / "gunicorn.log")
        try:
            port = server.port
            print(f"Python {sys.version.split()[0]}, Django {django.get_version()}, gunicorn {gunicorn.__version__},"
                  f" {os.cpu_count()} CPUs, {environment['GUNICORN_WORKERS']} workers, {CLIENTS} client processes,"
                  f" {SECONDS} s per round")
            load(port, EMBEDDED, 1), load(port, STATIC, 1)  # warm-up: every worker loads the build
            embedded, static, rendered = [], [], []
            for _ in range(ROUNDS):
                embedded.append(load(port, EMBEDDED))
                static.append(load(port, STATIC))
                rendered.append(load(port, EMBEDDED, cookie="visitor=1"))
            best_embedded = max(embedded, key=lambda figures: figures["rate"])
            best_static = max(static, key=lambda figures: figures["rate"])
            best_rendered = max(rendered, key=lambda figures: figures["rate"])
            print(f"Side by side, best of {ROUNDS} alternating rounds:")
            print(row("embedded page, no cookie (kept)", best_embedded))
            print(row("static file through WhiteNoise", best_static))
            print(row("embedded page, a cookie (rendered)", best_rendered))
            ratio = statistics.median(e["rate"] / s["rate"] for e, s in zip(embedded, static, strict=True))
            print(f"  embedded / static = {best_embedded['rate'] / best_static['rate']:.2f} (best rounds),"
                  f" {ratio:.2f} (median of the rounds' ratios)   (target >= 0.8);"
                  f" rendered each time / static = {best_rendered['rate'] / best_static['rate']:.2f}")

            print(f"Publishing new builds one after the other (0.5 s apart) while serving {EMBEDDED}:")
            quiet = load(port, EMBEDDED)
            stop = threading.Event()
            took: list[float] = []
            publisher = threading.Thread(
                target=lambda: took.extend(publish_every(0.5, stop, work / "json", work / "builds",
                                                         work / "build" / "json")))
            publisher.start()
            busy = load(port, EMBEDDED)
            stop.set()
            publisher.join()
            print(row("without publishing", quiet))
            print(row(f"publishing ({len(took)} builds)", busy))
            print(f"  pages mixed from two builds: {busy['mixed']}; builds seen by the clients: {len(busy['seen'])};"
                  f" one publish (load check and switch) took {statistics.median(took) * 1000:.0f} ms (median)")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
