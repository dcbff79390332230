"""Conditional requests: ETag and Last-Modified on pages and files, 304 when the reader already has them.

A file's validators come from the file (size, modification time, inode). A page's come from the build it was
rendered from *and* the request's cookies: the host site's template around the page shows who is signed in and
holds a CSRF token, so a page rendered for one sign-in must never be confirmed to another. Behind sign-in
(``HANDBOOK_ACCESS`` other than ``public``) responses are ``Cache-Control: private``: a shared cache keeps none.
Every response is ``no-cache`` (revalidate before use), so a rebuild shows at the next request.
"""

from __future__ import annotations

import hashlib
import os

from django.contrib.messages import get_messages
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date

from .access import access_level


def _etag(*parts: object) -> str:
    digest = hashlib.sha256("\0".join(str(part) for part in parts).encode()).hexdigest()[:32]
    return f'"{digest}"'


def page_validators(request, build_modified: float, url: str) -> tuple[str | None, float | None]:
    """ETag and Last-Modified of a page for this request; none while the host site has messages to show (a 304
    would swallow them)."""
    if len(get_messages(request)):
        return None, None
    cookies = sorted(request.COOKIES.items())
    return _etag("page", build_modified, url, cookies), build_modified


def file_validators(stat: os.stat_result) -> tuple[str, float]:
    """ETag and Last-Modified of a file, from what ``os.stat`` says of it."""
    return _etag("file", stat.st_ino, stat.st_size, stat.st_mtime_ns), stat.st_mtime


def not_modified(request, etag: str | None, last_modified: float | None, varies_by_cookie: bool):
    """A 304 (or 412) when the request's validators match, else None: call it before doing the work."""
    if etag is None:
        return None
    response = get_conditional_response(request, etag=etag, last_modified=int(last_modified))
    if response is not None:
        mark(response, etag, last_modified, varies_by_cookie)
    return response


def mark(response, etag: str | None, last_modified: float | None, varies_by_cookie: bool):
    """Set the validators and the caching rules on ``response``; return it."""
    if etag is not None:
        response.headers["ETag"] = etag
        response.headers["Last-Modified"] = http_date(int(last_modified))
    private = access_level() != "public"
    patch_cache_control(response, no_cache=True, **({"private": True} if private else {}))
    if varies_by_cookie:
        patch_vary_headers(response, ("Cookie",))
    return response
