"""Every page of the build, served through the embed, with working links and images."""

import html
import json
import re
from urllib.parse import urljoin, urlsplit

import pytest
from django.contrib.staticfiles import finders

from .handbook import PageParts, embed_url, source_docnames

PAGES = source_docnames()


def fetch(client, url):
    response = client.get(url)
    assert response.status_code == 200, f"{url} answered {response.status_code}"
    return response


@pytest.mark.parametrize("docname", PAGES)
def test_page_is_served_with_its_title(client, json_build, docname):
    title = json.loads((json_build / f"{docname}.fjson").read_text())["title"]
    response = fetch(client, embed_url(docname))
    parts = PageParts(response.content.decode())
    # Sphinx gives the title as HTML (inline code is markup); the page's <title> holds its text.
    assert parts.title.startswith(html.unescape(re.sub(r"<[^>]+>", "", title)) + " ·"), parts.title
    assert "Acme Engineering" in parts.title, "not in the host site's base template"


@pytest.mark.parametrize("docname", PAGES)
def test_every_internal_link_and_image_resolves(client, docname):
    page_url = embed_url(docname)
    parts = PageParts(fetch(client, page_url).content.decode())
    checked = 0
    for tag, reference in parts.references:
        target = urlsplit(urljoin(f"http://testserver{page_url}", reference))
        if target.netloc != "testserver":
            continue  # an external link
        if target.path.startswith("/static/"):
            assert finders.find(target.path.removeprefix("/static/")), f"{reference} on {page_url}: no such static file"
            continue
        # The handbook's own links must be exact; the host site's may redirect.
        response = client.get(target.path, follow=not target.path.startswith("/handbook/"))
        assert response.status_code == 200, f"<{tag}> {reference} on {page_url} answered {response.status_code}"
        if target.fragment:
            assert target.fragment in PageParts(response.content.decode()).ids, f"{reference} on {page_url}: no anchor"
        checked += 1
    assert checked >= 5, f"only {checked} internal references on {page_url}"


def test_page_has_navigation_previous_next_and_assets(client):
    parts = PageParts(fetch(client, "/handbook/docs/checklist/").content.decode())
    hrefs = {value for _, value in parts.references}
    assert "../../" in hrefs, "previous: the front page"
    assert "../explanations/why-migrations-run-before-the-code/" in hrefs, "next page, also in the navigation"
    assert "/handbook/_static/design-tabs.js" in hrefs
    assert "/handbook/_static/copybutton.js" in hrefs
    assert "/handbook/_static/sphinx-design.min.css" in hrefs


def test_images_are_served_from_the_build(client):
    response = fetch(client, "/handbook/_images/deploy-order.svg")
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in b"".join(response.streaming_content)


def test_front_page_is_the_prefix_and_root_redirects_to_it(client):
    assert "How to read it" in fetch(client, "/handbook/").content.decode()
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/handbook/"


def test_pages_print_nothing(client, capsys):
    fetch(client, "/handbook/docs/checklist/")
    client.get("/handbook/no-such-page/")
    captured = capsys.readouterr()
    assert captured.out == ""
