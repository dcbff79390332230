"""Cost of a search in the embedded handbook, as the handbook grows: prints figures, asserts nothing.

For a handbook of 10 and of 100 pages (the real pages' text, repeated under new addresses), the median time of a
normal query ("rolling deploy") against two hostile ones: 100 one-character words (36 distinct), the most a
200-character query can hold, and the handbook's most frequent words, which every page holds. Each through the full-text index the
embed uses, and through a scan of every page (a regular expression per word per page, what the embed did before),
for contrast. Target: a hostile query costs a small multiple of a normal one, at 10 pages as at 100.

Run it with ``nox -s bench``.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "conf"))

from handbook_embed.build import Page, load  # noqa: E402
from handbook_embed.search import SearchIndex, words  # noqa: E402

SIZES = (10, 100)
RUNS = 200
NORMAL = "rolling deploy"
HOSTILE = " ".join("abcdefghijklmnopqrstuvwxyz0123456789" * 3)[:199]  # 100 one-character words


def pages_of(real: list[Page], count: int) -> dict[str, Page]:
    """``count`` pages made of the real ones, repeated under new addresses."""
    made = {}
    for number in range(count):
        page = real[number % len(real)]
        url = f"copy-{number}/{page.url}"
        made[url] = replace(page, url=url)
    return made


def scan(pages: dict[str, Page], query: str) -> int:
    """The former search: every word's pattern counted in every page."""
    patterns = [re.compile(rf"\b{re.escape(word)}", re.IGNORECASE) for word in words(query)]
    found = 0
    for page in pages.values():
        haystack = f"{page.title} {page.text}"
        if all(len(pattern.findall(haystack)) for pattern in patterns):
            found += 1
    return found


def frequent_words(pages: list[Page], count: int = 10) -> str:
    """The ``count`` words found on the most pages, ties in alphabetical order."""
    held = Counter(word for page in pages for word in set(words(page.text)))
    # Many words are on every page: the ties go in alphabetical order, so that each run asks the same.
    return " ".join(word for word, _ in sorted(held.items(), key=lambda item: (-item[1], item[0]))[:count])


def median_ms(run) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    assert len(HOSTILE) <= 200 and len(HOSTILE.split()) == 100
    with tempfile.TemporaryDirectory(prefix="handbook-search-") as tmp:
        out = Path(tmp) / "json"
        subprocess.run([sys.executable, "-m", "sphinx", "-b", "json", "-t", "embed", "-c", str(REPO / "conf"), "-q",
                        str(REPO), str(out)], check=True)
        real = list(load(out).pages.values())
    common = frequent_words(real)
    print(f"Search cost, median of {RUNS} queries, in ms. Normal: {NORMAL!r}; one-char: 100 one-character words (36 distinct);")
    print(f"frequent: {common!r}, repeated to 200 characters")
    frequent = ((common + " ") * 20)[:200]
    print(f"  {'pages':>5}  {'how':<16} {'normal':>7} {'one-char':>9} {'frequent':>9} {'worst/normal':>13}")
    for size in SIZES:
        pages = pages_of(real, size)
        index = SearchIndex(pages)
        for how, run in (("full-text index", index.search), ("scan every page", lambda q, p=pages: scan(p, q))):
            normal, *hostile = (median_ms(lambda r=run, q=q: r(q)) for q in (NORMAL, HOSTILE, frequent))
            print(f"  {size:>5}  {how:<16} {normal:>7.3f} {hostile[0]:>9.3f} {hostile[1]:>9.3f}"
                  f" {max(hostile) / normal:>13.1f}")


if __name__ == "__main__":
    main()
