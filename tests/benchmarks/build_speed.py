"""Speed of the handbook's build: prints figures, asserts nothing.

The JSON build from cold, against the rebuild after one page changed.
Target: the rebuild at most 0.2x the cold build. Measured twice: as
``sphinx-build`` processes (what a command line or sphinx-autobuild pays,
interpreter start and imports included), and as builds inside one running
process (Sphinx's own work). Serving speed: production_serving.py.

Run it with ``nox -s bench``.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
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


def main() -> None:
    import django

    print(f"Python {sys.version.split()[0]}, Django {django.get_version()}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="handbook-bench-") as tmp:
        work = Path(tmp)
        print("Building the JSON pages ...", flush=True)
        print_build_figures(work, sphinx, "sphinx-build processes")
        build_figures(work / "warm-up", sphinx_in_process)  # imports Sphinx and the extensions
        print_build_figures(work, sphinx_in_process, "builds in one process")


if __name__ == "__main__":
    main()
