import pytest

from .handbook import sphinx_build


@pytest.fixture(scope="session")
def json_build(tmp_path_factory):
    """The JSON build of the handbook, made once per test run."""
    outdir = tmp_path_factory.mktemp("json-build")
    result = sphinx_build("json", outdir, "-t", "embed")
    assert result.returncode == 0, f"The JSON build failed:\n{result.stderr}"
    return outdir


@pytest.fixture(scope="session")
def html_build(tmp_path_factory):
    """The standalone HTML build, made once per test run, warnings as errors."""
    outdir = tmp_path_factory.mktemp("html-build")
    result = sphinx_build("html", outdir)
    assert result.returncode == 0, f"The HTML build warned or failed:\n{result.stderr}"
    return outdir


@pytest.fixture(autouse=True)
def serve_builds(json_build, html_build, settings):
    """Every test's site serves those builds, to everyone unless the test says otherwise."""
    settings.HANDBOOK_JSON_BUILD_DIR = json_build
    settings.HANDBOOK_HTML_BUILD_DIR = html_build
    settings.HANDBOOK_ACCESS = "public"
