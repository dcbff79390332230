"""The web site a release serves in the lab: each operation of its workload at a URL of its own.

A release's ``workload.OPERATIONS`` are the requests on the tables its guide changes; its optional
``workload.UNTOUCHED_OPERATIONS`` are requests on a table no migration of the guide touches. Reads answer ``GET
/op/<name>``, writes ``POST /op/<name>``. ``GET /ops`` lists them (JSON), ``GET /ready`` answers without touching
the database: the balancer's health check. A request whose operation raises is a 500, as on a real site.
"""

from __future__ import annotations

import importlib
import json
from functools import cache

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.urls import path

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
    function()
    return HttpResponse(json.dumps({"release": settings.HANDBOOK_RELEASE}), content_type="application/json")


urlpatterns = [
    path("ready", ready),
    path("ops", listing),
    path("op/<str:name>", operation),
]
