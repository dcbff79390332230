"""The Sphinx builds: warning-free, nitpicky, every source page built."""

import json

import pytest

from .handbook import ROOT_DOC, source_docnames, sphinx_build


def test_html_build_has_no_warnings_and_uses_furo(html_build):
    """The fixture fails on any warning; here, the theme is the one the handbook promises."""
    assert "furo" in (html_build / "docs" / "checklist.html").read_text()


def test_html_build_lands_on_the_front_page(html_build):
    landing = (html_build / "index.html").read_text()
    assert 'url=docs/index.html"' in landing
    assert (html_build / "docs" / "index.html").is_file()


def test_standalone_build_is_served_beside_the_embed(client):
    response = client.get("/standalone/")
    assert response.status_code == 200
    assert b"url=docs/index.html" in b"".join(response.streaming_content)
    assert client.get("/standalone/docs/checklist.html").status_code == 200


def test_json_build_holds_every_source_page(json_build):
    built = {p.relative_to(json_build).with_suffix("").as_posix() for p in json_build.rglob("*.fjson")}
    assert set(source_docnames()) <= built
    assert json.loads((json_build / "globalcontext.json").read_text())["root_doc"] == ROOT_DOC


def test_json_build_uses_the_plain_theme(json_build):
    """furo cannot render through the JSON builder; the embed tag must switch it off."""
    script_files = json.loads((json_build / "globalcontext.json").read_text())["script_files"]
    assert not any("furo" in name for name in script_files)
    assert any("design-tabs" in name for name in script_files)
    assert any("copybutton" in name for name in script_files)


@pytest.mark.once  # Sphinx alone: the same on every Django
def test_json_rebuild_into_the_same_directory_has_no_warnings(json_copy):
    """`nox -s serve` rebuilds into the previous build; the stock builder warned there. (On a copy: the build is
    shared by every test of the run.)"""
    previous = json_copy
    # What an older build left: the stock builder then refused to copy over it, and warned.
    (previous / "environment.pickle").write_bytes(b"left by an older build")
    result = sphinx_build("json", previous, "-t", "embed", "-E")
    assert result.returncode == 0, f"The JSON rebuild warned or failed:\n{result.stderr}"


def test_what_each_face_publishes_is_pages_and_their_files_only(json_build, html_build, client):
    # Sphinx's environment (a pickle of the build's paths and settings) and the Markdown sources stay out.
    assert not (json_build / "environment.pickle").exists()
    for build in (html_build, json_build):
        assert not [path for path in (build / "_sources").rglob("*") if path.is_file()], build
    assert client.get("/standalone/_sources/docs/checklist.md.txt").status_code == 404
    assert client.get("/standalone/docs/checklist.html").status_code == 200
