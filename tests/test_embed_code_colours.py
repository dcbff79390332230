"""Code in embedded pages is coloured by a stylesheet the embed serves, as on the standalone site."""

import re
from urllib.parse import urljoin

from .handbook import PageParts

GUIDE = "/handbook/guides/add-index-concurrently/"
# A Pygments rule, e.g. ``.highlight .kn { color: #8045E5; font-weight: bold } /* Keyword.Namespace */``.
RULE = re.compile(r"^\.highlight \.(?P<token>[\w-]+) \{(?P<declarations>[^}]*)\}", re.MULTILINE)
CODE_BLOCK = re.compile(r'<div class="highlight"><pre>(.*?)</pre>', re.DOTALL)


def token_rules(css: str) -> dict[str, str]:
    """The declarations of each token class, first rule only (furo's dark-mode rules come later, in @media)."""
    rules = {}
    for match in RULE.finditer(css):
        rules.setdefault(match["token"], match["declarations"].strip())
    return rules


def code_tokens(page_html: str) -> set[str]:
    """The Pygments token classes used inside the page's code blocks."""
    return {token for block in CODE_BLOCK.findall(page_html) for token in re.findall(r'<span class="(\w+)">', block)}


def served_stylesheets(client, page_url: str) -> str:
    """Every handbook stylesheet the page links, fetched through the embed, joined."""
    page = client.get(page_url)
    assert page.status_code == 200
    parts = PageParts(page.content.decode())
    sheets = []
    for tag, href in parts.references:
        url = urljoin(page_url, href)
        if tag != "link" or not url.startswith("/handbook/") or not url.endswith(".css"):
            continue
        response = client.get(url)
        assert response.status_code == 200, f"{url} answered {response.status_code}"
        assert response["Content-Type"].startswith("text/css"), f"{url} is {response['Content-Type']}"
        sheets.append(b"".join(response.streaming_content).decode())
    assert sheets, f"{page_url} links no stylesheet of the handbook"
    return "\n".join(sheets)


def test_keywords_in_a_guides_code_have_a_colour(client):
    keywords = {token for token in code_tokens(client.get(GUIDE).content.decode()) if token.startswith("k")}
    assert {"k", "kn"} <= keywords, f"the guide's code should hold keywords; found {sorted(keywords)}"
    rules = token_rules(served_stylesheets(client, GUIDE))
    for token in sorted(keywords):
        assert "color:" in rules.get(token, ""), f".highlight .{token} has no colour in the embed's stylesheets"


def test_code_colours_match_the_standalone_sites_light_mode(client, html_build):
    embed = token_rules(served_stylesheets(client, GUIDE))
    standalone = token_rules((html_build / "_static" / "pygments.css").read_text(encoding="utf-8"))
    for token in ("k", "kn", "nn", "s1", "c1"):
        assert embed.get(token) == standalone[token], f".highlight .{token}: embed {embed.get(token)!r}"
