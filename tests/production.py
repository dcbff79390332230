"""The site as production runs it (gunicorn, WhiteNoise, settings from the environment), for tests and benchmarks.

Also the tools to load it: clients on their own processes, and builds whose every page carries a mark, so that a
page mixed from two builds shows.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from lab.site import free_port  # noqa: F401 (the tests and benchmarks that start a server take it from here)

REPO = Path(__file__).resolve().parents[1]
GUNICORN_CONF = REPO / "conf" / "handbook_site" / "gunicorn.conf.py"
# Variables of the site that the tests' own environment must not leak into the server's.
SITE_VARIABLES = ("DJANGO_DEBUG", "DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DJANGO_HTTPS", "HANDBOOK_ACCESS",
                  "DJANGO_SETTINGS_MODULE")


def without_site_variables() -> dict[str, str]:
    """This process's environment without the site's own variables, for a site process that must set its own."""
    return {key: value for key, value in os.environ.items() if key not in SITE_VARIABLES}


def gunicorn_environment(build_root: Path, state: Path, port: int, workers: int) -> dict[str, str]:
    """What a production host sets (production.env's settings, but plain HTTP on loopback), with a fresh secret."""
    return {
        **without_site_variables(),
        "DJANGO_SECRET_KEY": os.urandom(32).hex(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "HANDBOOK_BUILD_ROOT": str(build_root),
        "HANDBOOK_SITE_DB": str(state / "site.sqlite3"),
        "DJANGO_STATIC_ROOT": str(state / "static"),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": str(workers),
    }


@dataclass
class Server:
    """A running gunicorn serving the site."""

    port: int
    process: subprocess.Popen
    log: Path

    def get(self, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def prepare(environment: dict[str, str]) -> None:
    """What a deploy runs before starting the server: the site's tables and its static files."""
    for command in (["migrate", "--noinput", "-v", "0"], ["collectstatic", "--noinput", "-v", "0"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=REPO, env=environment, check=True,
                       capture_output=True, timeout=120)


def start_gunicorn(environment: dict[str, str], log: Path) -> subprocess.Popen:
    """``gunicorn -c conf/handbook_site/gunicorn.conf.py``, its output in ``log``."""
    with open(log, "wb") as output:
        return subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF)], cwd=REPO,
                                env=environment, stdout=output, stderr=subprocess.STDOUT)


def serve(environment: dict[str, str], log: Path, timeout: float = 30) -> Server:
    """Start gunicorn and wait until it answers; raise with its output if it stops first."""
    port = int(environment["GUNICORN_BIND"].rsplit(":", 1)[1])
    process = start_gunicorn(environment, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn stopped (exit {process.returncode}):\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return Server(port, process, log)
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"gunicorn did not answer within {timeout} s:\n{log.read_text()}")


def marked_copy(source: Path, target: Path, mark: str) -> Path:
    """A copy of the JSON build ``source`` in which every page's body and title carry ``mark``."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".built"))
    for fjson in target.rglob("*.fjson"):
        context = json.loads(fjson.read_text(encoding="utf-8"))
        context["body"] = f'<p class="build-mark">{mark}</p>' + context.get("body", "")
        context["title"] = f"{context.get('title', '')} {mark}"
        fjson.write_text(json.dumps(context), encoding="utf-8")
    # What a new build rewrites; the site reloads when it changes.
    (target / "globalcontext.json").touch()
    return target
