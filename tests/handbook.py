"""What the tests know of the handbook's sources and how to build them."""

from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCE_DIRS = ("docs", "guides")
ROOT_DOC = "docs/index"


def source_docnames() -> list[str]:
    """Every page Sphinx reads: the Markdown files under docs/ and guides/."""
    names = []
    for folder in SOURCE_DIRS:
        for source in sorted((REPO / folder).rglob("*.md")):
            if source.name != "README.md":
                names.append(source.relative_to(REPO).with_suffix("").as_posix())
    return names


def embed_url(docname: str) -> str:
    """The URL of a page in the embedding site."""
    if docname == ROOT_DOC:
        return "/handbook/"
    if docname.endswith("/index"):
        return f"/handbook/{docname[: -len('index')]}"
    return f"/handbook/{docname}/"


def sphinx_build(builder: str, outdir: Path, *options: str) -> subprocess.CompletedProcess:
    """Run sphinx-build on the handbook, nitpicky and with warnings as errors."""
    command = [sys.executable, "-m", "sphinx", "-b", builder, "-c", "conf", "-W", "-n", "--keep-going", "-q"]
    return subprocess.run(
        [*command, *options, ".", str(outdir)], cwd=REPO, capture_output=True, text=True, timeout=300
    )


class PageParts(HTMLParser):
    """The links, images, styles, scripts and element ids of an HTML page."""

    LINKING = {("a", "href"), ("img", "src"), ("link", "href"), ("script", "src")}

    def __init__(self, html: str):
        super().__init__()
        self.references: list[tuple[str, str]] = []
        self.ids: set[str] = set()
        self.title = ""
        self._in_title = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if (tag, name) in self.LINKING and value is not None:
                self.references.append((tag, value))
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data
