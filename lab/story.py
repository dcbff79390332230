"""Readable progress for long demonstrations: headings, timed steps, progress bars."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager


class Story:
    """Prints what a demonstration does as it does it; ``quiet`` prints nothing (tests)."""

    def __init__(self, stream=sys.stdout, quiet: bool = False):
        self.stream = stream
        self.quiet = quiet

    def say(self, text: str) -> None:
        if not self.quiet:
            for line in text.splitlines():
                print(f"    {line}", file=self.stream, flush=True)

    def heading(self, text: str) -> None:
        if not self.quiet:
            print(f"\n== {text}", file=self.stream, flush=True)

    @contextmanager
    def step(self, text: str):
        """A step, timed: ``text ... done in 1.2 s``."""
        if not self.quiet:
            print(f"  {text} ...", file=self.stream, flush=True)
        started = time.perf_counter()
        yield
        if not self.quiet:
            print(f"  ... done in {time.perf_counter() - started:.1f} s", file=self.stream, flush=True)

    @contextmanager
    def progress(self, text: str, total: int):
        """A step with a count: yields ``advance(done)`` to report how far it got."""
        started = time.perf_counter()

        def advance(done: int) -> None:
            if self.quiet:
                return
            width = 30
            filled = int(width * done / total) if total else width
            print(f"\r  {text} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}",
                  end="", file=self.stream, flush=True)

        yield advance
        if not self.quiet:
            print(f" in {time.perf_counter() - started:.1f} s", file=self.stream, flush=True)
