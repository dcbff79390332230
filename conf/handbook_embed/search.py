"""Server-side search over the handbook's pages, by their words."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .build import JsonBuild, Page

EXCERPT_CHARS = 80


@dataclass(frozen=True)
class Hit:
    """A page that holds every word of the query, with the text around the first match."""

    page: Page
    before: str
    match: str
    after: str


def words(query: str) -> list[str]:
    """The distinct words of a query, lower-cased, in order."""
    return list(dict.fromkeys(re.findall(r"\w+", query.lower())))


def search(build: JsonBuild, query: str) -> list[Hit]:
    """Pages holding every word of ``query`` (as word starts), best first."""
    wanted = words(query)
    if not wanted:
        return []
    patterns = [re.compile(rf"\b{re.escape(word)}", re.IGNORECASE) for word in wanted]
    scored = []
    for page in build.pages.values():
        haystack = f"{page.title} {page.text}"
        counts = [len(pattern.findall(haystack)) for pattern in patterns]
        if not all(counts):
            continue
        in_title = sum(bool(pattern.search(page.title)) for pattern in patterns)
        scored.append((-in_title, -sum(counts), page.title, _hit(page, patterns[0])))
    scored.sort(key=lambda item: item[:3])
    return [item[3] for item in scored]


def _hit(page: Page, pattern: re.Pattern) -> Hit:
    found = pattern.search(page.text)
    if found is None:  # the word is only in the title
        return Hit(page, "", "", page.text[: 2 * EXCERPT_CHARS])
    start, end = found.span()
    end = re.match(r"\w*", page.text[end:]).end() + end
    before = page.text[max(0, start - EXCERPT_CHARS) : start]
    after = page.text[end : end + EXCERPT_CHARS]
    return Hit(page, ("…" if start > EXCERPT_CHARS else "") + before, page.text[start:end], after + "…")
