"""Without a usable JSON build the site refuses to start, and says how to build it."""

import os
import subprocess
import sys

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from .handbook import REPO


@pytest.fixture(params=["missing", "empty", "html-only", "context-not-an-object"])
def unusable_build(request, tmp_path):
    directory = tmp_path / "json"
    if request.param != "missing":
        directory.mkdir()
    if request.param == "html-only":
        (directory / "index.html").write_text("<p>not a JSON build</p>")
    if request.param == "context-not-an-object":
        (directory / "globalcontext.json").write_text("[]")
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


def test_build_removed_while_serving_gives_a_plain_503_and_logs_why(client, settings, tmp_path, caplog):
    settings.HANDBOOK_JSON_BUILD_DIR = tmp_path / "gone"
    response = client.get("/handbook/docs/checklist/")
    body = response.content.decode()
    assert response.status_code == 503
    assert "unavailable" in body and str(tmp_path) not in body and "nox -s serve" not in body
    assert any(str(tmp_path / "gone") in record.getMessage() for record in caplog.records)


def test_with_debug_on_the_503_says_what_is_missing_and_how_to_build_it(client, settings, tmp_path):
    settings.HANDBOOK_JSON_BUILD_DIR = tmp_path / "gone"
    settings.DEBUG = True
    body = client.get("/handbook/docs/checklist/").content.decode()
    assert str(tmp_path / "gone") in body and "nox -s serve" in body


def test_one_corrupt_page_fails_alone(client, settings, json_copy):
    copy = json_copy
    (copy / "docs" / "checklist.fjson").write_text("{ not json")
    settings.HANDBOOK_JSON_BUILD_DIR = copy
    broken = client.get("/handbook/docs/checklist/")
    assert broken.status_code == 503 and str(copy) not in broken.content.decode()
    assert client.get("/handbook/guides/add-index-concurrently/").status_code == 200
    assert client.get("/handbook/search/?q=index").status_code == 200
    found = [w for w in checks.run_checks() if w.id == "handbook_embed.W003"]
    assert len(found) == 1 and "docs/checklist/" in found[0].msg


def test_a_wsgi_server_cannot_start_the_site_without_a_build(tmp_path):
    environment = {**os.environ, "HANDBOOK_BUILD_ROOT": str(tmp_path), "PYTHONPATH": str(REPO / "conf")}
    result = subprocess.run([sys.executable, "-c", "import handbook_site.wsgi"], cwd=REPO, env=environment,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert f"{tmp_path / 'json'} does not exist" in result.stderr and "Build it with" in result.stderr


def test_the_wsgi_application_starts_with_a_build(build_root):
    environment = {**os.environ, "HANDBOOK_BUILD_ROOT": str(build_root), "PYTHONPATH": str(REPO / "conf")}
    result = subprocess.run([sys.executable, "-c", "import handbook_site.wsgi as w; print(callable(w.application))"],
                            cwd=REPO, env=environment, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "True", result.stderr


def test_a_rebuild_is_loaded_once_however_many_requests_wait_for_it(settings, json_copy, monkeypatch):
    import threading

    from handbook_embed import build

    copy = json_copy
    settings.HANDBOOK_JSON_BUILD_DIR = copy
    build.current()
    loads, original = [], build.load

    def counted(directory):
        loads.append(directory)
        return original(directory)

    monkeypatch.setattr(build, "load", counted)
    stamp = copy / build.GLOBAL_CONTEXT
    os.utime(stamp, ns=(stamp.stat().st_atime_ns, stamp.stat().st_mtime_ns + 1_000_000_000))  # a rebuild
    start = threading.Barrier(8)
    threads = [threading.Thread(target=lambda: (start.wait(), build.current())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1
