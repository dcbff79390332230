"""Search finds pages by their words and shows them in the site's look."""

from handbook_embed import build
from handbook_embed import search as search_module
from handbook_embed.search import MAX_WORDS, search, words


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


def test_search_reads_at_most_ten_words_and_says_so(client):
    query = " ".join(["rolling"] + [f"w{n}" for n in range(99)])
    results = build.current().search_index.search(query)
    assert results.searched == words(query)[:MAX_WORDS] and len(results.ignored) == len(words(query)) - MAX_WORDS
    content = client.get("/handbook/search/", {"q": "a " * 100}).content.decode()
    assert "Only the first" not in content  # one distinct word, repeated: nothing left out
    content = client.get("/handbook/search/", {"q": " ".join("abcdefghijklmnopqrstuvwxyz")}).content.decode()
    assert "Only the first 10 words were searched; 16 more were left out." in content


def test_search_reads_operators_and_quotes_as_text(settings, json_build):
    settings.HANDBOOK_JSON_BUILD_DIR = json_build
    index = build.current().search_index
    # FTS5's own syntax in a query is searched for as words, never run: no error, no widened match.
    for query in ['rolling OR zebra', 'NEAR(rolling deploy)', '"rolling', 'rolling*', 'title:zebra', '-', '_ _']:
        index.search(query)
    assert not index.search("rolling OR zebra").hits
    assert [hit.page for hit in index.search("rolling* deploy").hits] == [
        hit.page for hit in index.search("rolling deploy").hits]


def test_search_matches_word_starts_in_title_and_text(settings, json_build):
    settings.HANDBOOK_JSON_BUILD_DIR = json_build
    found = {hit.page.docname for hit in search(build.current(), "concurren")}
    assert "guides/add-index-concurrently" in found
    # Inside a word is not a word start.
    assert not search(build.current(), "oncurrently")
    # Words under three characters are whole words: "ad" is not "add".
    assert not search(build.current(), "ad concurrently")


def test_search_lists_the_best_pages_and_counts_the_rest(client, monkeypatch):
    pages = build.current().pages
    monkeypatch.setattr(search_module, "MAX_HITS", 5)
    results = build.current().search_index.search("the")
    assert len(results.hits) == 5 and results.matched == len(pages)
    content = client.get("/handbook/search/", {"q": "the"}).content.decode()
    assert f"{len(pages)} pages mention “the”; the 5 best are listed." in content
    assert content.count("<li><a href=") == 5
