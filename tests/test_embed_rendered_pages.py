"""RenderedPagesMiddleware: a page asked again by a visitor with no cookie is answered as first rendered, before
the rest of the site's middleware; nothing a visitor brought of their own is ever kept or replayed."""

import os
import time

import pytest
from django.http import HttpResponse

from handbook_embed import views
from handbook_embed.middleware import _keepable

PAGE = "/handbook/docs/checklist/"


@pytest.fixture
def renders(monkeypatch):
    """How many times the page view rendered a page."""
    count = []
    original = views.PageView.get

    def counted(self, request, *args, **kwargs):
        count.append(kwargs["path"])
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(views.PageView, "get", counted)
    return count


def test_a_page_asked_again_without_cookies_is_not_rendered_again(client, renders, settings, json_copy):
    settings.HANDBOOK_JSON_BUILD_DIR = json_copy  # a build of its own: nothing kept by another test
    first, second = client.get(PAGE), client.get(PAGE)
    assert len(renders) == 1
    assert second.content == first.content
    assert {k: v for k, v in second.items()} == {k: v for k, v in first.items()}
    assert client.get(PAGE, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    # A new build: rendered anew, once.
    later = time.time() + 5
    os.utime(json_copy / "globalcontext.json", (later, later))
    client.get(PAGE), client.get(PAGE)
    assert len(renders) == 2


def test_a_visitor_with_a_cookie_or_a_query_gets_a_page_rendered_for_them(client, renders, settings, json_copy):
    settings.HANDBOOK_JSON_BUILD_DIR = json_copy
    client.get(PAGE)
    client.cookies["analytics"] = "anything"  # any cookie at all: the host site may read it
    client.get(PAGE)
    del client.cookies["analytics"]
    client.get(PAGE, {"utm": "x"})
    assert len(renders) == 3


@pytest.mark.django_db
def test_a_page_kept_while_public_is_not_replayed_once_the_handbook_needs_sign_in(client, renders, settings,
                                                                                   json_copy):
    settings.HANDBOOK_JSON_BUILD_DIR = json_copy
    client.get(PAGE), client.get(PAGE)
    assert len(renders) == 1  # kept
    settings.HANDBOOK_ACCESS = "login"
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_kept_page_still_refuses_a_foreign_host(client, settings, json_copy):
    settings.HANDBOOK_JSON_BUILD_DIR = json_copy
    client.get(PAGE), client.get(PAGE)
    assert client.get(PAGE, HTTP_HOST="attacker.example").status_code == 400
    # Nor is a page kept for one host replayed on another the site answers to.
    settings.ALLOWED_HOSTS = ["testserver", "docs.example"]
    page = client.get(PAGE, HTTP_HOST="docs.example")
    assert page.status_code == 200 and page.wsgi_request.get_host() == "docs.example"


def test_what_is_kept_is_bounded_whatever_hosts_arrive(client, settings, json_copy):
    from handbook_embed import build
    from handbook_embed.middleware import KEPT_PER_PAGE

    settings.HANDBOOK_JSON_BUILD_DIR = json_copy
    settings.ALLOWED_HOSTS = ["*"]
    loaded = build.current()
    for number in range(KEPT_PER_PAGE * len(loaded.pages) + 10):
        client.get(PAGE, HTTP_HOST=f"host-{number}.example")
    assert len(loaded.rendered) == KEPT_PER_PAGE * len(loaded.pages)


@pytest.mark.django_db
def test_a_page_rendered_for_someone_signed_in_is_not_kept(client, renders, settings, json_copy,
                                                           django_user_model):
    """Signed in by a header, with no cookie (a proxy's REMOTE_USER, a token): the request is passed through."""
    settings.HANDBOOK_JSON_BUILD_DIR = json_copy
    client.get(PAGE, HTTP_AUTHORIZATION="Bearer x"), client.get(PAGE, HTTP_AUTHORIZATION="Bearer x")
    assert len(renders) == 2


def keepable(**headers):
    response = HttpResponse("page")
    for name, value in headers.items():
        response.headers[name.replace("_", "-")] = value
    return response


def test_a_page_is_not_kept_when_the_inner_middleware_made_it_someone_s(rf, django_user_model):
    from django.contrib.auth.models import AnonymousUser

    request = rf.get(PAGE)
    request.user = AnonymousUser()
    assert _keepable(request, keepable(Vary="Cookie"))
    with_cookie = keepable()
    with_cookie.set_cookie("csrftoken", "secret")  # a CSRF token was used in the page
    assert not _keepable(request, with_cookie)
    assert not _keepable(request, keepable(Vary="Cookie, Accept-Language"))  # a language chosen per request
    assert not _keepable(request, keepable(Cache_Control="private, no-cache"))
    assert not _keepable(request, keepable(Content_Security_Policy="script-src 'nonce-abc'"))
    missing = keepable()
    missing.status_code = 404
    assert not _keepable(request, missing)
    request.user = django_user_model(username="signed-in")  # an unsaved user is authenticated all the same
    assert not _keepable(request, keepable(Vary="Cookie"))
