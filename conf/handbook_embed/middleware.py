"""Optional: answer repeat requests for a handbook page from the page as first rendered, before the rest of the
site's middleware runs (as WhiteNoise does for static files).

Add ``"handbook_embed.middleware.RenderedPagesMiddleware"`` to ``MIDDLEWARE`` right after WhiteNoise's (or after
``SecurityMiddleware``). Only requests that bring nothing of their own are answered this way: GET or HEAD, no
cookie, no query string, no credentials, a handbook open to the public. Such a visitor is anonymous and has no
session, no messages and no CSRF cookie, so every one of them gets the same page. The page is kept as it left the inner
middleware (its headers included) with the build it was rendered from, which drops it when a new build is
loaded; it is kept per scheme, host and address. A page is not kept when it was rendered for a signed-in user, or
the inner middleware set a cookie on it (a CSRF token was used), made it vary on anything but the cookie (a
language chosen per request), made it private, or gave it a CSP nonce.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import parse_http_date_safe

from . import build
from .access import access_level
from .views import prefix

# Copies of one page kept at most, on average: one per scheme and host the site answers to.
KEPT_PER_PAGE = 4


def _anonymous_page_request(request) -> bool:
    """A request that brings nothing of its own (no cookie, no query string, no credentials) for a page of a
    handbook open to the public."""
    return (request.method in ("GET", "HEAD") and not request.COOKIES and not request.META.get("QUERY_STRING")
            and "HTTP_AUTHORIZATION" not in request.META and "REMOTE_USER" not in request.META
            and access_level() == "public" and request.path.startswith(prefix()))


def _keepable(request, response) -> bool:
    """Whether nothing in this rendered page belongs to the one who asked: no cookie set (a CSRF token used), no
    signed-in user, no variation but the cookie, not private, no CSP nonce."""
    if response.status_code != 200 or response.streaming or response.cookies or response.has_header("Set-Cookie"):
        return False
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return False
    vary = {header.strip().lower() for header in response.get("Vary", "").split(",") if header.strip()}
    policy = response.get("Content-Security-Policy", "") + response.get("Content-Security-Policy-Report-Only", "")
    return vary <= {"cookie"} and "private" not in response.get("Cache-Control", "") and "nonce-" not in policy


class RenderedPagesMiddleware:
    """Serves a handbook page kept from an earlier identical request; keeps pages the embed's view rendered."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not _anonymous_page_request(request):
            return self.get_response(request)
        # The host is checked here, as CommonMiddleware would below (a foreign Host gets a 400), and is part of the
        # key with the scheme: a site answering to several hosts renders a page for each.
        key = (request.scheme, request.get_host(), request.path)
        try:
            kept = build.current().rendered.get(key)
        except build.BuildMissing:
            kept = None
        if kept is not None:
            return self._replay(request, *kept)
        response = self.get_response(request)
        rendered_from = getattr(response, "handbook_build", None)
        # Bounded, whatever Host headers arrive (ALLOWED_HOSTS may be "*"): a few copies of each page at most.
        if (rendered_from is not None and _keepable(request, response)
                and len(rendered_from.rendered) < KEPT_PER_PAGE * len(rendered_from.pages)):
            rendered_from.rendered[key] = (response.content, list(response.items()))
        return response

    @staticmethod
    def _replay(request, content: bytes, headers: list[tuple[str, str]]):
        response = HttpResponse(content)
        for name, value in headers:
            response.headers[name] = value
        last_modified = parse_http_date_safe(response.get("Last-Modified", ""))
        unchanged = get_conditional_response(request, etag=response.get("ETag"), last_modified=last_modified,
                                             response=response)
        return unchanged
