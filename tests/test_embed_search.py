"""Search finds pages by their words and shows them in the site's look."""

from handbook_embed import build
from handbook_embed.search import search


def test_search_finds_pages_by_a_word(client):
    response = client.get("/handbook/search/", {"q": "nullable"})
    content = response.content.decode()
    assert response.status_code == 200
    assert "Acme Engineering" in content
    assert 'href="/handbook/docs/checklist/"' in content
    assert "<mark>nullable</mark>" in content


def test_search_needs_every_word(json_build, settings):
    settings.HANDBOOK_JSON_BUILD_DIR = json_build
    found = {hit.page.docname for hit in search(build.current(), "rolling deploy")}
    assert "docs/explanations/why-migrations-run-before-the-code" in found
    assert not {hit.page.docname for hit in search(build.current(), "rolling zebra")}


def test_search_ranks_title_matches_first():
    hits = search(build.current(), "checklist")
    assert hits[0].page.docname == "docs/checklist"


def test_search_without_hits_or_words(client):
    assert "No page mentions" in client.get("/handbook/search/", {"q": "zebra"}).content.decode()
    assert "Type one or more words" in client.get("/handbook/search/").content.decode()


def test_search_box_on_every_page(client):
    assert 'action="/handbook/search/"' in client.get("/handbook/docs/checklist/").content.decode()


def test_search_escapes_the_query(client):
    content = client.get("/handbook/search/", {"q": "<script>alert(1)</script>"}).content.decode()
    assert "<script>alert(1)</script>" not in content
