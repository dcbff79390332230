"""Server-side search over the handbook's pages, by their words: SQLite's FTS5.

Each loaded build gets its own full-text index, in memory, made once when the build is loaded: the index always
matches the pages being served (a rebuild brings a new one with it), the host site's database is neither written
nor migrated, and any host works, whatever its database engine. A query looks words up in the index (ranked by
BM25, a word in the title weighing more than one in the text) instead of scanning every page, and reads at most
``MAX_WORDS`` words: its cost stays bounded whatever the input and grows slowly with the handbook.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .build import Page

EXCERPT_CHARS = 80
# A query's words beyond these are ignored (and the page says so): each word is one more index lookup.
MAX_WORDS = 10
PREFIX_FROM = 3
# Pages listed per query, best first: each gets an excerpt, so the cost of a query stops growing with the handbook.
MAX_HITS = 20
# BM25 weights of the indexed columns: title, text.
TITLE_WEIGHT, TEXT_WEIGHT = 10.0, 1.0


@dataclass(frozen=True)
class Hit:
    """A page that holds every word of the query, with the text around the first match."""

    page: Page
    before: str
    match: str
    after: str


@dataclass(frozen=True)
class Results:
    """The best hits of a query (at most ``MAX_HITS``), how many pages matched, and the words it searched for (at
    most ``MAX_WORDS``) and left out."""

    hits: list[Hit]
    matched: int
    searched: list[str]
    ignored: list[str]


def words(query: str) -> list[str]:
    """The distinct words of a query, lower-cased, in order: runs of letters and digits, as the index splits text."""
    return list(dict.fromkeys(re.findall(r"[^\W_]+", query.lower())))


class SearchUnavailable(Exception):
    """Python's sqlite3 has no FTS5: the message says so."""


class SearchIndex:
    """A full-text index of a build's pages (an in-memory FTS5 table), safe to share between threads."""

    def __init__(self, pages: dict[str, Page]):
        self._pages = list(pages.values())
        self._lock = threading.Lock()
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        try:
            # Three-character prefixes are indexed too, so that the shortest word start searched for is one lookup.
            self._db.execute(
                "CREATE VIRTUAL TABLE pages USING fts5(title, text, tokenize='unicode61 remove_diacritics 2',"
                " prefix='3')"
            )
        except sqlite3.OperationalError as error:
            raise SearchUnavailable(
                f"The handbook's search needs SQLite's FTS5, which this Python's sqlite3 lacks ({error}; SQLite "
                f"{sqlite3.sqlite_version}). Use a Python whose sqlite3 is built with FTS5."
            ) from None
        self._db.executemany(
            "INSERT INTO pages (rowid, title, text) VALUES (?, ?, ?)",
            [(number, page.title, page.text) for number, page in enumerate(self._pages)],
        )
        self._db.commit()

    def search(self, query: str) -> Results:
        """Pages holding every word of ``query`` (as word starts, from three characters), best first."""
        wanted = words(query)
        searched, ignored = wanted[:MAX_WORDS], wanted[MAX_WORDS:]
        if not searched:
            return Results([], 0, [], ignored)
        # Each word quoted (FTS5 reads it as text, never as an operator); all are required. Words of three characters
        # or more match as word starts; shorter ones match whole words ("a" matching every word starting with an a
        # would cost a read of most of the index and find nothing useful).
        match = " ".join(f'"{word}"*' if len(word) >= PREFIX_FROM else f'"{word}"' for word in searched)
        with self._lock:
            rows = self._db.execute(
                "SELECT rowid FROM pages WHERE pages MATCH ? ORDER BY bm25(pages, ?, ?), rowid LIMIT ?",
                (match, TITLE_WEIGHT, TEXT_WEIGHT, MAX_HITS),
            ).fetchall()
            matched = len(rows)
            if matched == MAX_HITS:
                (matched,) = self._db.execute("SELECT count(*) FROM pages WHERE pages MATCH ?", (match,)).fetchone()
        # Highlighted as it was matched: a word start, or a whole word when short.
        whole = r"\b" if len(searched[0]) < PREFIX_FROM else ""
        first = re.compile(rf"\b{re.escape(searched[0])}{whole}", re.IGNORECASE)
        return Results([_hit(self._pages[rowid], first) for (rowid,) in rows], matched, searched, ignored)


def search(build, query: str) -> list[Hit]:
    """Pages of ``build`` holding every word of ``query``, best first."""
    return build.search_index.search(query).hits


def _hit(page: Page, pattern: re.Pattern) -> Hit:
    found = pattern.search(page.text)
    if found is None:  # the word is only in the title
        return Hit(page, "", "", page.text[: 2 * EXCERPT_CHARS])
    start, end = found.span()
    end = re.match(r"\w*", page.text[end:]).end() + end
    before = page.text[max(0, start - EXCERPT_CHARS) : start]
    after = page.text[end : end + EXCERPT_CHARS]
    return Hit(page, ("…" if start > EXCERPT_CHARS else "") + before, page.text[start:end], after + "…")
