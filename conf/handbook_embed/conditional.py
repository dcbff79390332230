"""Conditional requests and caching rules: ETag and Last-Modified on pages and files, 304 when the reader already
has them; ``no-cache`` on every answer of the embed, and ``private`` on any a shared cache must not keep.

A file's validators come from the open file (inode, size, modification time). A page's ETag is weak (the host's
template may mask a CSRF token differently on every render) and covers what makes the page: the build it was
rendered from, the address and host, the language, ``HANDBOOK_PAGE_VERSION`` (for the host site to change when it
deploys a new base template) and the request's cookies. The host site's template shows who is signed in and holds
a CSRF token, so a page rendered for one sign-in is never confirmed to another; for the same reason a date alone
(If-Modified-Since without If-None-Match) confirms a page only to a request without cookies.
"""

from __future__ import annotations

import hashlib
import os

from django.conf import settings
from django.contrib.messages import get_messages
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date
from django.utils.translation import get_language

from .access import access_level


def _digest(*parts: object) -> str:
    return hashlib.sha256("\0".join(str(part) for part in parts).encode()).hexdigest()[:32]


def page_validators(request, build_stamp: tuple, build_modified: float) -> tuple[str | None, float | None]:
    """ETag and Last-Modified of a page for this request; none while the host site has messages to show (a 304
    would swallow them)."""
    if len(get_messages(request)):
        return None, None
    version = getattr(settings, "HANDBOOK_PAGE_VERSION", "")
    parts = (build_stamp, request.get_host(), request.path, get_language(), version, sorted(request.COOKIES.items()))
    return f'W/"{_digest("page", *parts)}"', build_modified


def file_validators(stat: os.stat_result) -> tuple[str, float]:
    """ETag and Last-Modified of a file, from what ``os.stat`` or ``os.fstat`` says of it."""
    return f'"{_digest("file", stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)}"', stat.st_mtime


def not_modified(request, etag: str | None, last_modified: float | None, varies_by_cookie: bool):
    """A 304 (or 412) when the request's validators match, else None: call it before doing the work."""
    if etag is None:
        return None
    if varies_by_cookie and request.COOKIES and "HTTP_IF_NONE_MATCH" not in request.META:
        return None  # a date cannot say whose page it was: without the ETag, the page is sent whole
    response = get_conditional_response(request, etag=etag, last_modified=int(last_modified))
    if response is not None:
        mark(request, response, etag, last_modified, varies_by_cookie)
    return response


def mark(request, response, etag: str | None = None, last_modified: float | None = None,
         varies_by_cookie: bool = True):
    """Set the validators, if any, and the caching rules on ``response``; return it. ``private`` when the handbook
    is behind sign-in or the reader is signed in to the host site (its template may show them)."""
    if etag is not None:
        response.headers["ETag"] = etag
        response.headers["Last-Modified"] = http_date(int(last_modified))
    user = getattr(request, "user", None)
    private = access_level() != "public" or bool(user and user.is_authenticated)
    patch_cache_control(response, no_cache=True, **({"private": True} if private else {}))
    if varies_by_cookie:
        patch_vary_headers(response, ("Cookie",))
    return response
