"""Conditional requests: a reader who already has a page or a file gets a 304, never someone else's page."""

import os
import time

import pytest

PAGE = "/handbook/docs/checklist/"
FILES = ["/handbook/_images/deploy-order.svg", "/standalone/docs/checklist.html"]


def revalidate(client, url, response, **headers):
    return client.get(url, HTTP_IF_NONE_MATCH=response["ETag"], **headers)


def test_a_page_carries_validators_and_answers_304_when_unchanged(client):
    first = client.get(PAGE)
    assert first.status_code == 200
    assert first["ETag"] and first["Last-Modified"]
    assert first["Cache-Control"] == "no-cache" and first["ETag"].startswith('W/"')
    assert "Cookie" in first["Vary"]
    again = revalidate(client, PAGE, first)
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == first["ETag"]
    assert client.get(PAGE, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304
    # Contrast: another page's validator does not confirm this one.
    other = client.get("/handbook/")
    assert revalidate(client, PAGE, other).status_code == 200


@pytest.mark.parametrize("url", FILES)
def test_a_file_carries_validators_and_answers_304_when_unchanged(client, url):
    first = client.get(url)
    assert first.status_code == 200 and first["ETag"] and first["Last-Modified"]
    assert revalidate(client, url, first).status_code == 304
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304
    assert client.get(url, HTTP_IF_NONE_MATCH='"something-else"').status_code == 200


def test_a_changed_file_is_sent_again(client, settings, json_copy):
    settings.HANDBOOK_JSON_BUILD_DIR = json_copy
    url = "/handbook/_images/deploy-order.svg"
    first = client.get(url)
    picture = json_copy / "_images" / "deploy-order.svg"
    later = time.time() + 5
    os.utime(picture, (later, later))
    assert revalidate(client, url, first).status_code == 200


def test_a_rebuild_sends_the_page_again(client, settings, json_copy):
    settings.HANDBOOK_JSON_BUILD_DIR = json_copy
    first = client.get(PAGE)
    later = time.time() + 5
    os.utime(json_copy / "globalcontext.json", (later, later))  # what a rebuild rewrites
    assert revalidate(client, PAGE, first).status_code == 200


@pytest.mark.django_db
def test_a_page_is_never_confirmed_to_another_sign_in(client, settings, django_user_model):
    settings.HANDBOOK_ACCESS = "login"
    reader = django_user_model.objects.create_user("reader", password="x")
    other = django_user_model.objects.create_user("other", password="y")
    client.force_login(reader)
    client.get(PAGE)  # the first page rendered for a sign-in sets the CSRF cookie: the cookies change once
    first = client.get(PAGE)
    assert first.status_code == 200 and "Sign out reader" in first.content.decode()
    assert "private" in first["Cache-Control"] and "no-cache" in first["Cache-Control"]
    assert revalidate(client, PAGE, first).status_code == 304
    client.force_login(other)
    second = revalidate(client, PAGE, first)
    assert second.status_code == 200 and "Sign out other" in second.content.decode()
    # Nor by date: If-Modified-Since alone does not confirm a page to a request with cookies.
    by_date = client.get(PAGE, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert by_date.status_code == 200 and "Sign out other" in by_date.content.decode()
    # And a date precondition is met, not turned into a 412.
    assert client.get(PAGE, HTTP_IF_UNMODIFIED_SINCE=first["Last-Modified"]).status_code == 200


@pytest.mark.django_db
def test_every_answer_is_checked_before_reuse_and_private_once_signed_in(client, django_user_model):
    for url in ("/handbook/search/?q=lock", "/handbook/no-such-page/", PAGE):
        assert "no-cache" in client.get(url)["Cache-Control"], url
    client.force_login(django_user_model.objects.create_user("reader", password="x"))
    for url in ("/handbook/search/?q=lock", "/handbook/no-such-page/", PAGE):
        assert "private" in client.get(url)["Cache-Control"], url


@pytest.mark.django_db
def test_files_behind_sign_in_are_private(client, settings, django_user_model):
    settings.HANDBOOK_ACCESS = "login"
    client.force_login(django_user_model.objects.create_user("reader", password="x"))
    for url in FILES:
        assert "private" in client.get(url)["Cache-Control"], url


@pytest.mark.django_db
def test_a_page_with_messages_to_show_is_sent_whole(rf, settings):
    from django.contrib.messages import add_message, INFO
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.auth.models import AnonymousUser

    from handbook_embed.views import PageView

    def request_with_a_message():
        request = rf.get(PAGE)
        request.user, request.session = AnonymousUser(), SessionStore()
        request._messages = FallbackStorage(request)
        add_message(request, INFO, "Saved.")
        return request

    view = PageView.as_view()
    response = view(request_with_a_message(), path="docs/checklist/")
    assert response.status_code == 200 and "ETag" not in response
    # Contrast: the same page without a message has a validator.
    plain = rf.get(PAGE)
    plain.user, plain.session = AnonymousUser(), SessionStore()
    plain._messages = FallbackStorage(plain)
    assert "ETag" in view(plain, path="docs/checklist/")
