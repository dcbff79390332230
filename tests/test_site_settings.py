"""The site's settings are safe by default and come from the environment (conf/handbook_site/production.env)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .production import without_site_variables

REPO = Path(__file__).resolve().parents[1]
PRODUCTION_ENV = REPO / "conf" / "handbook_site" / "production.env"


def manage(*args: str, env: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    """``manage.py ARGS`` in a process whose site variables are only those of ``env``."""
    clean = without_site_variables()
    clean["HANDBOOK_SITE_DB"] = str(tmp_path / "site.sqlite3")
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env={**clean, **env}, capture_output=True,
                          text=True, timeout=120)


def written_environment() -> dict[str, str]:
    """production.env as written."""
    lines = [line.strip() for line in PRODUCTION_ENV.read_text().splitlines()]
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def production_environment() -> dict[str, str]:
    """production.env, its placeholder secret replaced by a real one, as the file says to."""
    return {**written_environment(), "DJANGO_SECRET_KEY": os.urandom(32).hex()}


def test_without_a_secret_key_and_debug_off_the_site_refuses_to_start(tmp_path):
    result = manage("check", env={}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_debug_is_off_unless_turned_on(tmp_path):
    code = "from django.conf import settings; print(settings.DEBUG)"
    off = manage("shell", "-v", "0", "-c", code, env={"DJANGO_SECRET_KEY": "x" * 50}, tmp_path=tmp_path)
    on = manage("shell", "-v", "0", "-c", code, env={"DJANGO_DEBUG": "1"}, tmp_path=tmp_path)
    assert (off.stdout.strip(), on.stdout.strip()) == ("False", "True"), off.stderr + on.stderr


def test_check_deploy_is_clean_with_the_documented_production_environment(tmp_path, build_root):
    result = manage("check", "--deploy", "--fail-level", "WARNING",
                    env={**production_environment(), "HANDBOOK_BUILD_ROOT": str(build_root)}, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_placeholder_secret_is_refused(tmp_path, build_root):
    result = manage("check", env={**written_environment(), "HANDBOOK_BUILD_ROOT": str(build_root)}, tmp_path=tmp_path)
    assert result.returncode != 0 and "still production.env's placeholder" in result.stderr, result.stderr


def test_check_deploy_warns_without_https(tmp_path, build_root):
    environment = {**production_environment(), "HANDBOOK_BUILD_ROOT": str(build_root)}
    del environment["DJANGO_HTTPS"]
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=environment, tmp_path=tmp_path)
    assert result.returncode != 0 and "security.W008" in result.stderr + result.stdout


# Run in a process with the site's own settings: pytest-django turns DEBUG off in the tests' process whatever the
# settings say, so only there does the default show.
REQUESTS = """
from django.test import Client
client = Client()
foreign = client.get("/handbook/", HTTP_HOST="attacker.example")
missing = client.get("/no-such-page/", HTTP_HOST="localhost")
print(foreign.status_code, missing.status_code)
print(foreign.content.decode() + missing.content.decode())
"""


def test_by_default_a_foreign_host_gets_a_plain_400_and_a_missing_page_lists_no_routes(tmp_path, build_root):
    result = manage("shell", "-v", "0", "-c", REQUESTS,
                    env={"DJANGO_SECRET_KEY": "x" * 50, "HANDBOOK_BUILD_ROOT": str(build_root)}, tmp_path=tmp_path)
    statuses, _, bodies = result.stdout.partition("\n")
    assert statuses == "400 404", result.stdout + result.stderr
    for leak in ("DATABASES", "SECRET", "DisallowedHost", "Traceback", "URLconf", "handbook_site.urls", str(REPO)):
        assert leak not in bodies, leak


def test_an_unknown_access_level_refuses_to_start(tmp_path, build_root):
    result = manage("check", env={"DJANGO_SECRET_KEY": "x" * 50, "HANDBOOK_ACCESS": "Staff",
                                  "HANDBOOK_BUILD_ROOT": str(build_root)}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "HANDBOOK_ACCESS is 'Staff': use one of public, login, staff." in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_access_level_set_while_running_lets_nobody_in(client, settings, django_user_model):
    settings.HANDBOOK_ACCESS = "Staff"
    client.force_login(django_user_model.objects.create_user("reader", password="x"))
    assert client.get("/handbook/docs/checklist/").status_code == 403
