"""Views of the embedded handbook: pages, their files, search."""

from __future__ import annotations

import difflib

from django.conf import settings
from django.http import HttpResponsePermanentRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView
from sphinx_view import DocumentationView

from . import build, conditional
from .access import HandbookAccessMixin
from .search import MAX_WORDS

MAX_QUERY_CHARS = 200


def prefix() -> str:
    """The URL the handbook is mounted at, e.g. ``/handbook/``."""
    return reverse("handbook:page", kwargs={"path": ""})


def base_template_name() -> str:
    """The host site's base template that handbook pages extend."""
    return getattr(settings, "HANDBOOK_BASE_TEMPLATE", "base.html")


def unavailable(request, problem: str):
    """503: a plain message for visitors; the problem (paths, errors) goes to the log, and on the page only while
    DEBUG is on."""
    build.logger.error("Handbook unavailable at %s: %s", request.path, problem)
    context = {"base_template_name": base_template_name(), "problem": problem if settings.DEBUG else "",
               "command": build.BUILD_COMMAND if settings.DEBUG else ""}
    return render(request, "handbook_embed/unavailable.html", context, status=503)


class BuildMixin:
    """Loads the current build; answers 503 when there is none."""

    def dispatch(self, request, *args, **kwargs):
        try:
            self.build = build.current()
        except build.BuildMissing as error:
            return conditional.mark(request, unavailable(request, str(error)), varies_by_cookie=False)
        # Every answer (page, file, search, 404) is checked before reuse, and private where a shared cache must
        # not keep it; pages and files carry their validators too.
        return conditional.mark(request, super().dispatch(request, *args, **kwargs), varies_by_cookie=False)

    def common_context(self) -> dict:
        root = prefix()
        return {
            "base_template_name": base_template_name(),
            "handbook_root": root,
            "css_urls": [root + name for name in self.build.css_files],
            "script_urls": [root + name for name in self.build.script_files],
            "front_page": self.build.pages.get(""),
        }


class PageView(HandbookAccessMixin, BuildMixin, DocumentationView):
    """One page of the handbook, in the host site's base template.

    Looks pages up by URL in the loaded build instead of joining the URL onto
    the file system, and redirects a URL missing its trailing slash.
    """

    template_name = "handbook_embed/page.html"

    def get(self, request, *args, **kwargs):
        path = kwargs["path"]
        if path in self.build.broken:  # this page alone fails
            return unavailable(request, self.build.broken[path])
        self.page = self.build.pages.get(path)
        if self.page is None:
            if path + "/" in self.build.pages and "\x00" not in path:
                query = request.META.get("QUERY_STRING", "")
                return HttpResponsePermanentRedirect(prefix() + path + "/" + (f"?{query}" if query else ""))
            return self.not_found(request, path)
        validators = conditional.page_validators(request, self.build.stamp, self.build.modified)
        if unchanged := conditional.not_modified(request, *validators, varies_by_cookie=True):
            return unchanged
        response = conditional.mark(request, super().get(request, *args, **kwargs), *validators)
        response.handbook_build = self.build  # for RenderedPagesMiddleware: the build this page was rendered from
        return response

    def get_doc_json(self):
        return self.page.context

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(self.common_context())
        context["base_template_name"] = base_template_name()
        context["page"] = self.page
        return context

    def not_found(self, request, path: str):
        urls = list(self.build.pages)
        close = difflib.get_close_matches(path, urls, n=3, cutoff=0.3)
        last = path.rstrip("/").rsplit("/", 1)[-1].lower()
        if last:
            close += [url for url in urls if last in url.lower() and url not in close]
        context = self.common_context()
        context.update({"path": path, "suggestions": [self.build.pages[url] for url in close[:5]]})
        return render(request, "handbook_embed/not_found.html", context, status=404)


class AssetView(HandbookAccessMixin, BuildMixin, View):
    """A file of the build's ``_static/`` or ``_images/``."""

    def get(self, request, path):
        return self.build.assets.response(path, request)


class SearchView(HandbookAccessMixin, BuildMixin, TemplateView):
    """Pages that hold every word of ``?q=`` (up to ten words), best first."""

    template_name = "handbook_embed/search.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.get("q", "").strip()
        if len(query) > MAX_QUERY_CHARS:  # cut between words, not inside one
            query = query[: MAX_QUERY_CHARS + 1].rsplit(None, 1)[0]
        context.update(self.common_context())
        results = self.build.search_index.search(query)
        context.update({"query": query, "hits": results.hits, "ignored": results.ignored,
                        "matched": results.matched,
                        "max_words": MAX_WORDS})
        return context
