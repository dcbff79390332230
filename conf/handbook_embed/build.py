"""The handbook's JSON build, read once and kept while it is unchanged.

A build is loaded from ``settings.HANDBOOK_JSON_BUILD_DIR``: every page by its
URL, the plain text of each page for search, and the files under
``_static/`` and ``_images/``. It is reloaded when Sphinx writes a new build
(``globalcontext.json`` changes, or the configured path, a link, points to another build), so a rebuild shows up
without a restart.
"""

from __future__ import annotations

import html
import json
import logging
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from .files import FileTree
from .search import SearchIndex, SearchUnavailable

GLOBAL_CONTEXT = "globalcontext.json"
# Pages Sphinx writes for its own HTML machinery; the embed has its own search.
SPHINX_SPECIAL_PAGES = {"genindex", "search", "py-modindex"}
logger = logging.getLogger("handbook_embed")
BUILD_COMMAND = "nox -s serve (or: sphinx-build -b json -t embed -c conf . _build/json)"


class BuildMissing(Exception):
    """The JSON build is absent, empty or unreadable; the message says which and how to fix it."""


@dataclass(frozen=True)
class Page:
    """One page of the build: its URL below the handbook prefix and its Sphinx context."""

    url: str
    docname: str
    title: str
    context: dict
    text: str = field(repr=False)


@dataclass(frozen=True)
class JsonBuild:
    """A loaded JSON build: pages by URL, asset files, the CSS and JS every page needs, the pages that could not be
    read (by URL, with why: each fails alone), its search index, and when Sphinx wrote it (seconds since the
    epoch)."""

    directory: Path
    pages: dict[str, Page]
    assets: FileTree
    css_files: tuple[str, ...]
    script_files: tuple[str, ...]
    broken: dict[str, str] = field(default_factory=dict)
    modified: float = 0.0
    # Which build this is: device, inode and modification time (ns) of its globalcontext.json.
    stamp: tuple[int, int, int] = (0, 0, 0)
    # Pages as rendered for visitors who bring nothing of their own (RenderedPagesMiddleware), dropped with the build.
    rendered: dict = field(default_factory=dict, repr=False, compare=False)
    search_index: SearchIndex = field(default=None, repr=False)


def build_directory() -> Path:
    """The configured JSON build directory."""
    return Path(settings.HANDBOOK_JSON_BUILD_DIR)


def page_url(docname: str, root_doc: str) -> str:
    """The URL of a document below the handbook prefix, as the builder links it."""
    if docname == root_doc:
        return ""
    if docname == "index" or docname.endswith("/index"):
        return docname[: -len("index")]
    return docname + "/"


# Sphinx writes well-formed HTML, and the text is only searched and shown escaped: a pattern strips it as Django's
# strip_tags did (the same text on every page of the handbook), in a tenth of the time (a load of the 19 pages:
# 34 ms against 281 ms), which every worker of a site pays after each new build.
_TAG = re.compile(r"<[^>]*>")


def plain_text(body_html: str) -> str:
    """The words of a page body, without markup, permalink signs or extra spaces."""
    text = html.unescape(_TAG.sub("", body_html)).replace("¶", " ")
    return re.sub(r"\s+", " ", text).strip()


def load(directory: Path) -> JsonBuild:
    """Read the build in ``directory``; raise :class:`BuildMissing` naming what is wrong."""
    global_file = directory / GLOBAL_CONTEXT
    if not directory.is_dir():
        raise BuildMissing(f"The handbook's JSON build directory {directory} does not exist.")
    if not global_file.is_file():
        raise BuildMissing(f"{directory} holds no JSON build of the handbook (no {GLOBAL_CONTEXT}).")
    try:
        found = global_file.stat()
        global_context = json.loads(global_file.read_text(encoding="utf-8"))
        root_doc = global_context["root_doc"]
        fjson_files = sorted(directory.rglob("*.fjson"))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise BuildMissing(f"The JSON build in {directory} cannot be read: {error!r}.") from error
    pages, broken = {}, {}
    inside = directory.resolve()
    for fjson in fjson_files:
        if fjson.is_symlink() or not fjson.resolve().is_relative_to(inside):  # nothing outside the build is read
            logger.warning("Handbook build: %s is a link, not served", fjson.relative_to(directory))
            continue
        docname = fjson.relative_to(directory).with_suffix("").as_posix()
        if docname in SPHINX_SPECIAL_PAGES or docname.startswith(("_", ".")):
            continue
        url = page_url(docname, root_doc)
        try:
            context = json.loads(read_no_link(fjson))
            pages[url] = Page(
                url=url,
                docname=docname,
                title=plain_text(context.get("title", "")) or docname,
                context=context,
                text=plain_text(context.get("body", "")),
            )
        except (OSError, ValueError, AttributeError, TypeError) as error:  # one bad page; the others still serve
            broken[url] = f"{fjson} cannot be read: {error!r}"
            logger.error("Handbook page %s is unavailable: %s", url or "/", broken[url])
    if not pages:
        raise BuildMissing(f"The JSON build in {directory} holds no pages.")
    try:
        search_index = SearchIndex(pages)
    except SearchUnavailable as error:
        raise BuildMissing(str(error)) from None
    return JsonBuild(
        directory=directory,
        pages=pages,
        assets=FileTree.scan(directory, ("_static", "_images")),
        css_files=tuple(global_context.get("css_files", ())),
        script_files=tuple(global_context.get("script_files", ())),
        broken=broken,
        search_index=search_index,
        modified=found.st_mtime,
        stamp=(found.st_dev, found.st_ino, found.st_mtime_ns),
    )


def read_no_link(path: Path) -> str:
    """The text of ``path``, refusing it if it became a link since it was listed (``O_NOFOLLOW``)."""
    with os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)), encoding="utf-8") as handle:
        return handle.read()


def require() -> None:
    """Raise ImproperlyConfigured naming the directory when the configured build cannot be served: for a WSGI
    module to call at start-up, where no system check runs."""
    from django.core.exceptions import ImproperlyConfigured

    try:
        current()
    except BuildMissing as error:
        raise ImproperlyConfigured(f"{error} Build it with: {BUILD_COMMAND}") from None


_lock = threading.Lock()
_cache: dict[Path, JsonBuild] = {}


def current() -> JsonBuild:
    """The configured build, loaded on first use and again after each rebuild.

    The configured directory may be a link that a deploy switches to a new build. A build is known by its
    ``globalcontext.json`` (device, inode, modification time: one ``stat`` per request, through the link). A new one
    is read whole from where the link points when it is loaded, so a page never mixes two builds, and it is kept
    under its own stamp: a switch between the ``stat`` and the load only costs one more load."""
    directory = build_directory()
    try:
        found = os.stat(os.path.join(directory, GLOBAL_CONTEXT))
        stamp = (found.st_dev, found.st_ino, found.st_mtime_ns)
    except OSError:
        stamp = None
    cached = _cache.get(directory)
    if cached is not None and stamp is not None and cached.stamp == stamp:
        return cached
    with _lock:
        # Requests that waited here while another loaded this very build take its result: one load per change.
        cached = _cache.get(directory)
        if cached is not None and stamp is not None and cached.stamp == stamp:
            return cached
        try:
            real = directory.resolve(strict=True)
        except OSError:
            real = directory
        loaded = load(real)
        _cache[directory] = loaded
        return loaded


def forget() -> None:
    """Drop the loaded builds, so that the next request loads its own: for a server's worker process after fork(),
    since a build holds an SQLite connection (its search index) that must not cross a fork."""
    with _lock:
        _cache.clear()
