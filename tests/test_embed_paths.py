"""No URL leaves the build; unknown pages get a helpful 404; slashes are added."""

import json
import os

import pytest
from sphinx_view import DocumentationView

HOSTILE = [
    "/handbook/../conf.py",
    "/handbook/../outside/secret/",
    "/handbook/%2e%2e/outside/secret/",
    "/handbook/%252e%252e/outside/secret/",
    "/handbook/..%2foutside%2fsecret/",
    "/handbook/..%252foutside%252fsecret/",
    "/handbook/..\\outside\\secret/",
    "/handbook/%5c..%5coutside%5csecret/",
    "/handbook//etc/passwd",
    "/handbook//etc/",
    "/handbook/docs/index%00/",
    "/handbook/docs/checklist%00",
    "/handbook/docs/checklist.fjson",
    "/handbook/globalcontext.json",
    "/handbook/environment.pickle",
    "/handbook/_static/../globalcontext.json",
    "/handbook/_static/%2e%2e/globalcontext.json",
    "/handbook/_static/..%2fglobalcontext.json",
    "/handbook/_static/../../outside/secret.fjson",
    "/handbook/_images/..\\globalcontext.json",
    "/handbook/_images//etc/passwd",
    "/handbook/_static/basic.css%00.png",
    "/handbook/_sources/docs/checklist.md.txt",
    "/handbook/.doctrees/environment.pickle",
    "/standalone/../conf.py",
    "/standalone/%2e%2e/outside/secret.fjson",
    "/standalone//etc/passwd",
]


@pytest.fixture
def secret_beside_the_build(json_build):
    """A page-shaped file just outside the build, as an attacker would aim for."""
    outside = json_build.parent / "outside"
    outside.mkdir(exist_ok=True)
    # The build's folder is shared by the run's workers: write whole, never half.
    draft = outside / f"secret.{os.getpid()}.tmp"
    draft.write_text(json.dumps({"body": "TOP SECRET", "title": "secret"}))
    os.replace(draft, outside / "secret.fjson")
    return outside


def test_the_upstream_view_alone_would_leak_it(json_build, secret_beside_the_build):
    """Why the embed does its own lookups: django-sphinx-view's view joins the URL onto the disk."""
    view = DocumentationView(json_build_dir=json_build, kwargs={"path": "/../outside/secret/"})
    assert view.get_doc_json()["body"] == "TOP SECRET"


@pytest.mark.parametrize("url", HOSTILE)
def test_hostile_path_gets_404(client, secret_beside_the_build, settings, url):
    settings.HANDBOOK_HTML_BUILD_DIR = secret_beside_the_build.parent
    response = client.get(url)
    assert response.status_code == 404, f"{url} answered {response.status_code}"
    assert b"TOP SECRET" not in b"".join(getattr(response, "streaming_content", [response.content]))


def test_missing_trailing_slash_redirects(client):
    response = client.get("/handbook/docs/checklist?from=mail")
    assert response.status_code == 301
    assert response["Location"] == "/handbook/docs/checklist/?from=mail"


def test_unknown_page_is_404_in_the_site_look_with_suggestions(client):
    response = client.get("/handbook/docs/checklst/")
    assert response.status_code == 404
    content = response.content.decode()
    assert "Acme Engineering" in content, "the host site's base template"
    assert "No such page in the handbook" in content
    assert 'href="/handbook/docs/checklist/"' in content, "suggests the page it resembles"


def test_unknown_asset_is_404(client):
    assert client.get("/handbook/_static/no-such-file.css").status_code == 404


def test_assets_are_served_with_their_type(client):
    response = client.get("/handbook/_static/design-tabs.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript"


@pytest.fixture
def linked_build(json_copy, tmp_path, secret_beside_the_build):
    """A copy of the build with links out of it: a page and the images folder."""
    import shutil

    copy = json_copy
    (copy / "guides" / "leak.fjson").symlink_to(secret_beside_the_build / "secret.fjson")
    outside_images = tmp_path / "outside-images"
    outside_images.mkdir()
    (outside_images / "secret.png").write_bytes(b"TOP SECRET")
    shutil.rmtree(copy / "_images", ignore_errors=True)
    (copy / "_images").symlink_to(outside_images, target_is_directory=True)
    return copy


def test_links_out_of_the_build_are_never_followed(client, settings, linked_build):
    settings.HANDBOOK_JSON_BUILD_DIR = linked_build
    for url in ("/handbook/guides/leak/", "/handbook/_images/secret.png"):
        response = client.get(url)
        assert response.status_code == 404, f"{url} answered {response.status_code}"
        assert b"TOP SECRET" not in b"".join(getattr(response, "streaming_content", [response.content]))
    assert client.get("/handbook/docs/checklist/").status_code == 200


def test_a_listed_file_replaced_by_a_link_is_not_served(client, settings, json_copy, secret_beside_the_build):
    copy = json_copy
    settings.HANDBOOK_JSON_BUILD_DIR = copy
    assert client.get("/handbook/_static/basic.css").status_code == 200  # listed while it was a file
    (copy / "_static" / "basic.css").unlink()
    (copy / "_static" / "basic.css").symlink_to(secret_beside_the_build / "secret.fjson")
    response = client.get("/handbook/_static/basic.css")
    assert response.status_code == 404
