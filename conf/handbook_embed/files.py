"""Serve files from a build directory without ever leaving it.

URL paths are never joined onto the file system. The tree is listed once
(per build), and a request is answered only when its path is one of the
listed names, so ``..``, encoded dots, absolute paths, backslashes or NUL
bytes simply find nothing.
"""

from __future__ import annotations

import mimetypes
import os
from dataclasses import dataclass
from pathlib import Path

from django.http import FileResponse, Http404, HttpResponse

from . import conditional


@dataclass(frozen=True)
class FileTree:
    """The regular files below ``root``, by their relative POSIX path."""

    root: Path
    names: frozenset[str]

    @classmethod
    def scan(cls, root: Path, subdirs: tuple[str, ...] = ("",)) -> FileTree:
        """List the files below ``root`` (only within ``subdirs``), skipping links: linked files, linked folders
        (os.walk does not descend into them) and a linked subdir itself (os.walk would walk it)."""
        names = set()
        for subdir in subdirs:
            top = root / subdir
            if subdir and top.is_symlink():
                continue
            for dirpath, dirnames, filenames in os.walk(top):
                # Hidden folders hold Sphinx's caches (.doctrees), not pages.
                dirnames[:] = [d for d in dirnames if not d.startswith(".")]
                for filename in filenames:
                    full = Path(dirpath, filename)
                    if filename.startswith(".") or full.is_symlink():
                        continue
                    names.add(full.relative_to(root).as_posix())
        return cls(root=root, names=frozenset(names))

    def __contains__(self, name: str) -> bool:
        return name in self.names

    def response(self, name: str, request=None) -> HttpResponse:
        """A response streaming the listed file ``name``, with its validators; 404 if it is not listed. Given the
        ``request``, a 304 when the reader's copy is current."""
        if name not in self.names:
            raise Http404(name)
        path = self.root / name
        # Listed, but changed since: a link now, or a folder on the way swapped for a link out of the build.
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise Http404(name)
        try:
            handle = os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)), "rb")
        except OSError:
            raise Http404(name) from None
        validators = conditional.file_validators(os.fstat(handle.fileno()))  # of the file opened, not of the name
        if request is not None and (unchanged := conditional.not_modified(request, *validators, False)):
            handle.close()
            return unchanged
        content_type, encoding = mimetypes.guess_type(name)
        response = FileResponse(handle, content_type=content_type or "application/octet-stream")
        if encoding:
            response.headers["Content-Encoding"] = encoding
        return conditional.mark(request, response, *validators, varies_by_cookie=False)
