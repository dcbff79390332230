"""The standalone HTML build of the handbook, served as plain files."""

from pathlib import Path

from django.conf import settings
from django.http import Http404
from django.views import View

from handbook_embed.access import HandbookAccessMixin
from handbook_embed.files import FileTree

_trees: dict[tuple[Path, int], FileTree] = {}


def html_tree() -> FileTree:
    """The files of the HTML build, listed again whenever Sphinx rebuilds it."""
    root = Path(settings.HANDBOOK_HTML_BUILD_DIR)
    try:
        stamp = (root / ".buildinfo").stat().st_mtime_ns
    except OSError:
        raise Http404("The standalone HTML build does not exist; run: nox -s docs") from None
    key = (root, stamp)
    if key not in _trees:
        _trees.clear()
        tree = FileTree.scan(root)
        # Sphinx never empties its output folder: sources an older build copied stay there, unpublished.
        _trees[key] = FileTree(tree.root, frozenset(n for n in tree.names if not n.startswith("_sources/")))
    return _trees[key]


class StandaloneView(HandbookAccessMixin, View):
    """A file of the HTML build; a directory URL serves its ``index.html``."""

    def get(self, request, path):
        name = path + "index.html" if path == "" or path.endswith("/") else path
        return html_tree().response(name, request)
