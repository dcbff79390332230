"""The web site a release serves in the lab: each operation of its workload at a URL of its own.

A release's ``workload.OPERATIONS`` are the requests on the tables its guide changes; its optional
``workload.UNTOUCHED_OPERATIONS`` are requests on a table no migration of the guide touches. Reads answer ``GET
/op/<name>``, writes ``POST /op/<name>``. ``GET /ops`` lists them (JSON), ``GET /ready`` answers without touching
the database: the balancer's health check. A request whose operation raises is a 500, as on a real site; its body
is the error's first line (``IntegrityError: null value in column …``), what the site's log would say, so the lab
can tell which error old code met. Every answer of an operation names the release that gave it in its
``X-Release`` header: during a rolling update, which code served each visitor.
"""

from __future__ import annotations

import importlib
import json
from functools import cache

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.urls import path

from .example_settings import RELEASE_HEADER

BUSY, UNTOUCHED = "busy", "untouched"


@cache
def operations() -> dict[str, tuple[str, str, object]]:
    """Every operation of the release this process serves: name → (kind, group, function)."""
    workload = importlib.import_module(f"{settings.HANDBOOK_RELEASE}.workload")
    found = {}
    for group, pairs in ((BUSY, workload.OPERATIONS), (UNTOUCHED, getattr(workload, "UNTOUCHED_OPERATIONS", []))):
        for kind, function in pairs:
            found[function.__name__] = (kind, group, function)
    return found


def ready(request):
    return HttpResponse(f"ready {settings.HANDBOOK_RELEASE}\n", content_type="text/plain")


def listing(request):
    return JsonResponse({name: {"kind": kind, "group": group} for name, (kind, group, _) in operations().items()})


def operation(request, name: str):
    try:
        kind, _, function = operations()[name]
    except KeyError:
        return HttpResponse(f"no operation {name}\n", status=404, content_type="text/plain")
    method = "POST" if kind == "write" else "GET"
    if request.method != method:
        return HttpResponseNotAllowed([method])
    try:
        function()
        answer = HttpResponse(json.dumps({"release": settings.HANDBOOK_RELEASE}), content_type="application/json")
    except Exception as error:  # the point is to record what old code meets
        answer = HttpResponse(error_line(error), status=500, content_type="text/plain")
    answer[RELEASE_HEADER] = settings.HANDBOOK_RELEASE
    return answer


def error_line(error: Exception) -> str:
    """An error as the lab's in-process clients record it (:mod:`lab.workload`): its type and first line."""
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0] if text else ''}"


urlpatterns = [
    path("ready", ready),
    path("ops", listing),
    path("op/<str:name>", operation),
]
