"""Another team's site: the wheel built from pyproject.toml, installed into a fresh environment with a project made
by ``django-admin startproject``, set up with exactly the lines of the page "Embed the handbook in your Django
site", serves the pages, images, search and access levels."""

import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import django
import pytest

from .handbook import REPO

# The wheel and its packaging are the same on every Django; the embed's behaviour on each is tested by the others.
pytestmark = pytest.mark.once

PAGE = REPO / "docs" / "embed-in-your-site.md"
DIRECTIVE = re.compile(r"```\{literalinclude\} (?P<path>\S+)\n(?P<options>(?::[^\n]*\n)*)```")


def included(path: str) -> list[str]:
    """The text of each literalinclude of ``path`` on the page, as Sphinx shows it."""
    texts = []
    for found in DIRECTIVE.finditer(PAGE.read_text()):
        if not found["path"].endswith(path):
            continue
        options = dict(re.findall(r":([\w-]+):\s*(.*)", found["options"]))
        source = (PAGE.parent / found["path"]).read_text()
        start, end = json.loads(options["start-after"]), json.loads(options["end-before"])
        text = source.split(start, 1)[1].split("\n", 1)[1].split(end, 1)[0]
        texts.append(textwrap.dedent(text) if "dedent" in options else text)
    return texts


def page_commands(section: str) -> list[list[str]]:
    """The ``$`` commands of a section of the page."""
    body = PAGE.read_text().split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    return [shlex.split(line[2:]) for line in body.splitlines() if line.startswith("$ ")]


# Run by the new site's own Python: requests through Django's test client, the outcomes printed as JSON.
REQUESTS = """
import json
from django.contrib.auth.models import User
from django.test import Client
from django.test.utils import override_settings, setup_test_environment
setup_test_environment()
reader = User.objects.create_user("reader", password="x")
lead = User.objects.create_user("lead", password="y", is_staff=True)
client, seen = Client(), {}
page = client.get("/handbook/docs/checklist/")
seen["page"] = [page.status_code, "Team Site" in page.content.decode(), "The checklist" in page.content.decode()]
seen["image"] = client.get("/handbook/_images/deploy-order.svg").status_code
found = client.get("/handbook/search/", {"q": "rolling deploy"}).content.decode()
seen["search"] = found.count('<li><a href="/handbook/')
with override_settings(HANDBOOK_ACCESS="login"):
    seen["login_anonymous"] = [client.get("/handbook/").status_code, client.get("/handbook/")["Location"]]
    client.force_login(reader)
    seen["login_reader"] = client.get("/handbook/").status_code
with override_settings(HANDBOOK_ACCESS="staff"):
    seen["staff_reader"] = client.get("/handbook/").status_code
    client.force_login(lead)
    seen["staff_lead"] = client.get("/handbook/").status_code
print(json.dumps(seen))
"""

BASE_TEMPLATE = """<!doctype html><html><head><title>{% block title %}{% endblock %} · Team Site</title>
{% block extra_head %}{% endblock %}</head><body><header>Team Site</header>{% block content %}{% endblock %}</body></html>
"""


def run(command, **kwargs):
    # Nothing of this repository's site leaks into the new one: its settings module, its build, its access level.
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("DJANGO_", "HANDBOOK_")) and key != "PYTHONPATH"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=environment, **kwargs)
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result


def test_the_wheel_serves_the_handbook_in_a_startproject_site(tmp_path, json_build):
    # Step 2's commands, as the page gives them: the wheel, built in the repository, installed in a new environment.
    build, install = page_commands("2. Install the app")
    assert build[:3] == ["python", "-m", "pip"] and install[:3] == ["python", "-m", "pip"], (build, install)
    run([sys.executable, *build[1:]], cwd=REPO)
    assert install[3:4] == ["install"] and install[-1].endswith(".whl"), install
    # The new environment's pip is this one's, pointed at it (--python); nothing is byte-compiled: the same install,
    # in less time.
    run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")])
    python = str(tmp_path / "venv" / "bin" / "python")
    run([sys.executable, "-m", "pip", "--python", python, "install", "--no-compile", "-q",
         "--disable-pip-version-check", str(REPO / install[-1]), f"django=={django.get_version()}"])
    site = tmp_path / "site"
    site.mkdir()
    run([str(tmp_path / "venv" / "bin" / "django-admin"), "startproject", "acme", str(site)])
    # The team's own base template, with the three blocks the page names.
    (site / "templates").mkdir()
    (site / "templates" / "base.html").write_text(BASE_TEMPLATE)
    # The folder holding the build from step 1: its json/ is this run's JSON build.
    (tmp_path / "handbook").mkdir()
    (tmp_path / "handbook" / "json").symlink_to(json_build, target_is_directory=True)
    settings_lines = included("settings.py")[0]
    with open(site / "acme" / "settings.py", "a") as settings:
        settings.write('\nTEMPLATES[0]["DIRS"] = [BASE_DIR / "templates"]\n')
        settings.write(f"BUILD_DIR = Path({str(tmp_path / 'handbook')!r})\n")  # the line the page asks for
        settings.write(settings_lines)
    import_line, url_line = included("urls.py")
    urls = (site / "acme" / "urls.py").read_text()
    urls = import_line + urls.replace("urlpatterns = [", "urlpatterns = [\n    " + url_line.strip())
    (site / "acme" / "urls.py").write_text(urls)

    run([python, "manage.py", "migrate", "-v", "0"], cwd=site)
    seen = json.loads(run([python, "manage.py", "shell", "-v", "0", "-c", REQUESTS], cwd=site).stdout)
    assert seen["page"] == [200, True, True], seen
    assert seen["image"] == 200 and seen["search"] >= 1, seen
    assert seen["login_anonymous"][0] == 302 and seen["login_anonymous"][1].startswith("/accounts/login/"), seen
    assert seen["login_reader"] == 200 and seen["staff_reader"] == 403 and seen["staff_lead"] == 200, seen
    # The environment holds what the wheel brought, not this repository.
    where = run([python, "-c", "import handbook_embed; print(handbook_embed.__file__)"], cwd=tmp_path).stdout
    assert "site-packages" in where and str(REPO) not in where
