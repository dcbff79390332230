"""Without a usable JSON build the site refuses to start, and says how to build it."""

import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from .handbook import REPO


@pytest.fixture(params=["missing", "empty", "html-only"])
def unusable_build(request, tmp_path):
    directory = tmp_path / "json"
    if request.param != "missing":
        directory.mkdir()
    if request.param == "html-only":
        (directory / "index.html").write_text("<p>not a JSON build</p>")
    return directory


def test_check_names_the_directory_and_the_command(settings, unusable_build):
    settings.HANDBOOK_JSON_BUILD_DIR = unusable_build
    with pytest.raises(SystemCheckError) as raised:
        call_command("check")
    message = str(raised.value)
    assert "handbook_embed.E001" in message
    assert str(unusable_build) in message
    assert "nox -s serve" in message


def test_check_passes_with_a_build():
    call_command("check")


def test_check_rejects_an_unknown_access_level(settings):
    settings.HANDBOOK_ACCESS = "everyone"
    with pytest.raises(SystemCheckError, match="handbook_embed.E002"):
        call_command("check")


def test_runserver_stops_with_one_clear_message(tmp_path):
    environment = {**os.environ, "HANDBOOK_BUILD_ROOT": str(tmp_path), "HANDBOOK_SITE_DB": str(tmp_path / "db")}
    result = subprocess.run(
        [sys.executable, "manage.py", "runserver", "--noreload", "127.0.0.1:0"],
        cwd=REPO, env=environment, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "handbook_embed.E001" in result.stderr
    assert f"{tmp_path / 'json'} does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_build_removed_while_serving_gives_503_not_500(client, settings, tmp_path):
    settings.HANDBOOK_JSON_BUILD_DIR = tmp_path / "gone"
    response = client.get("/handbook/docs/checklist/")
    assert response.status_code == 503
    assert "nox -s serve" in response.content.decode()
