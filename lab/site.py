"""A release's web site as production runs one: gunicorn instances behind an nginx balancer.

Each :class:`Instance` is a gunicorn server of one release with sync workers (the most common way to serve Django),
serving :mod:`lab.site_urls` on a port of its own. The :class:`Balancer` is nginx in front of them, with an
upstream timeout: a request an instance has not answered in time is a 504, as on a real site (nginx tries another
instance only when one cannot be reached). :class:`Site` holds
both, and :meth:`Site.replace` is one step of a rolling update: the new instance starts and joins the balancer,
then the old one leaves it (a graceful reload), and stops once nginx has finished every request it sent there.

nginx comes from the system's packages (``apt-get install nginx``); :func:`nginx_binary` says where it is, or
raises :class:`NginxMissing` saying how to install it.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .engines import Database
from .example_settings import SERVING_VARIABLE
from .releases import Release, example_dir

WORKERS = 4  # sync workers per instance
UPSTREAM_TIMEOUT = 2.0  # seconds nginx waits for an instance's answer before it returns 504
START_TIMEOUT = 60.0


class NginxMissing(RuntimeError):
    """No nginx on this machine."""


def nginx_binary() -> str:
    """The path of nginx; :class:`NginxMissing`, saying how to install it, when there is none."""
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx")
                                           if os.access(p, os.X_OK)), None)
    if not found:
        raise NginxMissing("nginx is not installed: the lab's site runs behind it. Install it from your system's "
                           "packages (Debian and Ubuntu: apt-get install nginx; macOS: brew install nginx).")
    return found


PR_SET_PDEATHSIG = 1
# Looked up here, in the parent: between fork and exec a child should not load anything.
_prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None


def die_with_parent() -> None:
    """In a child, before it runs: ask Linux to send it SIGTERM when the process that started it dies, so that a
    test or recording killed half-way leaves no server behind. Elsewhere, nothing."""
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_ready(url: str, process: subprocess.Popen, what: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not answer {url} within {START_TIMEOUT:.0f} s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class Instance:
    """One gunicorn server of ``release``, started and ready (its ``/ready`` answers); with ``wait=False``, started
    only: :meth:`wait_ready` waits for it, so that several start side by side."""

    def __init__(self, release: Release, database: Database, folder: Path, *, workers: int = WORKERS,
                 name: str | None = None, wait: bool = True):
        self.release, self.workers = release, workers
        self.name = name or f"{release.name}@{id(self):x}"
        self.port = free_port()
        self.log = folder / f"gunicorn-{self.port}.log"
        environment = {**release.environment(database, role="web"), SERVING_VARIABLE: "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "lab.site_wsgi:application",
             "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers), "--worker-class", "sync",
             # Import Django once in the master; the workers fork from it.
             "--preload", "--timeout", "30", "--graceful-timeout", "10",
             "--error-logfile", str(self.log), "--log-level", "warning"],
            cwd=example_dir(release.slug), env=environment, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, preexec_fn=die_with_parent)
        if wait:
            self.wait_ready()

    def wait_ready(self) -> None:
        """Return once the instance answers ``/ready``; kill it and raise if it exits or never does."""
        try:
            _wait_ready(f"{self.address}/ready", self.process, f"gunicorn of {self.release.name}", self.log)
        except BaseException:
            self.kill()
            raise

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop gracefully: gunicorn finishes the requests its workers have, then exits."""
        self.terminate()
        self.wait_stopped()

    def terminate(self) -> None:
        """Ask gunicorn to stop gracefully, without waiting (:meth:`wait_stopped` waits)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait_stopped(self) -> None:
        """Wait for a graceful stop asked with :meth:`terminate`; kill the instance if it takes over 30 s."""
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """Stop at once: SIGKILL to gunicorn and its workers (their process group)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


NGINX_CONF = """\
{user}worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    upstream site {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://site;
            proxy_set_header Host $host;
            proxy_connect_timeout 1s;
            proxy_send_timeout {timeout}s;
            proxy_read_timeout {timeout}s;
            # Another instance gets a request only when this one could not be reached, never after a timeout: a
            # stalled request is a 504, not a hidden second try on an instance that is just as stalled.
            proxy_next_upstream error;
        }}
    }}
}}
"""


class Balancer:
    """nginx balancing over instances, with an upstream timeout; :meth:`route` reloads it gracefully."""

    def __init__(self, folder: Path, instances: list[Instance], *, upstream_timeout: float = UPSTREAM_TIMEOUT):
        self.binary = nginx_binary()
        self.folder, self.upstream_timeout = folder, upstream_timeout
        self.port = free_port()
        self.conf = folder / "nginx.conf"
        self._write(instances)
        test = subprocess.run([self.binary, "-t", "-q", "-p", str(folder), "-c", str(self.conf)],
                              capture_output=True, text=True)
        if test.returncode:
            raise RuntimeError(f"nginx refused its configuration: {test.stderr.strip()}")
        self.process = subprocess.Popen([self.binary, "-p", str(folder), "-c", str(self.conf), "-g", "daemon off;"],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True,
                                        preexec_fn=die_with_parent)
        _wait_ready(f"{self.address}/ready", self.process, "nginx", folder / "nginx-error.log")

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _write(self, instances: list[Instance]) -> None:
        servers = "\n".join(f"        server 127.0.0.1:{i.port} max_fails=0;" for i in instances)
        # As root, nginx's workers would otherwise switch to a user who cannot read the lab's folder.
        user = "user root;\n" if os.geteuid() == 0 else ""
        self.conf.write_text(NGINX_CONF.format(user=user, folder=self.folder, servers=servers, port=self.port,
                                               timeout=f"{self.upstream_timeout:g}"))

    def _workers(self) -> set[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return {int(pid) for pid in children.read_text().split()}
        except OSError:  # not Linux: nothing to wait for but the reload itself
            return set()

    def route(self, instances: list[Instance], *, drain_timeout: float = 30.0) -> None:
        """Balance over ``instances`` from now on: rewrite the upstream and reload nginx gracefully. Returns once
        the workers of the old configuration have finished every request they had, so an instance that left the
        upstream no longer has a request from nginx."""
        before = self._workers()
        self._write(instances)
        self.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + drain_timeout
        while time.monotonic() < deadline:
            now = self._workers()
            if now and not (now & before):
                return
            time.sleep(0.02)
        raise RuntimeError(f"nginx's old workers did not finish within {drain_timeout:.0f} s of a reload")

    def recovered(self, *, quick_ms: float = 100, in_a_row: int = 5, limit: float = 30.0) -> float:
        """Wait until ``in_a_row`` health checks in a row each got an answer within ``quick_ms``: the workers are free
        again. Returns the seconds it took (``limit`` at most)."""
        started = time.monotonic()
        streak = 0
        while streak < in_a_row and time.monotonic() - started < limit:
            asked = time.monotonic()
            try:
                with urllib.request.urlopen(f"{self.address}/ready", timeout=self.upstream_timeout + 1) as answer:
                    quick = answer.status == 200 and (time.monotonic() - asked) * 1000 <= quick_ms
            except OSError:
                quick = False
            streak = streak + 1 if quick else 0
            time.sleep(0.05)
        return time.monotonic() - started

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful: finish the requests in flight
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass(frozen=True)
class Shape:
    """How big the site is: instances, sync workers each, and nginx's upstream timeout."""

    instances: int = 2
    workers: int = WORKERS
    upstream_timeout: float = UPSTREAM_TIMEOUT

    def describe(self) -> str:
        return (f"{self.instances} gunicorn instances of {self.workers} sync workers behind nginx "
                f"(upstream timeout {self.upstream_timeout:g} s)")


class Site:
    """``shape.instances`` instances of ``release`` behind nginx; a context manager that stops everything."""

    def __init__(self, release: Release, database: Database, shape: Shape = Shape()):
        self.database, self.shape = database, shape
        self._folder = tempfile.TemporaryDirectory(prefix="handbook-site-")
        self.folder = Path(self._folder.name)
        self.instances: list[Instance] = []
        self.balancer: Balancer | None = None
        try:
            # Started side by side, then waited for: each takes a moment to import Django.
            for _ in range(shape.instances):
                self.instances.append(Instance(release, database, self.folder, workers=shape.workers, wait=False))
            for instance in self.instances:
                instance.wait_ready()
            self.balancer = Balancer(self.folder, self.instances, upstream_timeout=shape.upstream_timeout)
        except BaseException:
            self.close()
            raise

    @property
    def address(self) -> str:
        return self.balancer.address

    def start(self, release: Release) -> Instance:
        """A new instance of ``release``, ready, not yet behind the balancer."""
        return Instance(release, self.database, self.folder, workers=self.shape.workers)

    def replace(self, old: Instance, release: Release) -> Instance:
        """One step of a rolling update: a new instance of ``release`` joins, then ``old`` leaves and stops."""
        new = self.start(release)
        self.instances.append(new)
        self.balancer.route(self.instances)
        self.instances.remove(old)
        self.balancer.route(self.instances)
        old.stop()
        return new

    def close(self) -> None:
        """Stop nginx, then every instance at once. A site closes once its visitors have gone, so no request is cut
        short; a graceful stop would only add about a second per site to every test run. (A rolling update's
        :meth:`replace` stops the old instance gracefully: there, visitors are still coming.)"""
        if self.balancer:
            self.balancer.stop()
        for instance in self.instances:
            instance.kill()
        self._folder.cleanup()

    def __enter__(self) -> Site:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
