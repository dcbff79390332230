"""Start a release's processes quickly: fork them from a process that has Django and the drivers imported already.

Every command, workload and traced chain of an example runs in a new Python process of its release, since Django
reads its settings once per process (:mod:`lab.releases`). Starting Python and importing Django, psycopg and the
migration machinery costs about 0.3 s of CPU, most of a short command's time, and the tests start thousands. The
zygote, ``python -m lab.zygote``, imports them once, without configuring Django, and forks a child per command.
The child takes the command's working directory, environment, arguments and standard streams, sets ``sys.path`` as
``python -m`` or ``python -c`` would, and runs: its settings come from its environment, as in a new process.

:func:`spawn` starts a command and returns a :class:`Process`, which answers like :class:`subprocess.Popen` (text
streams, ``poll``, ``wait``, ``communicate``, ``send_signal``, ``kill``). ``HANDBOOK_ZYGOTE=0`` starts every
command as a plain subprocess instead.
"""

from __future__ import annotations

import atexit
import json
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

VARIABLE = "HANDBOOK_ZYGOTE"
HEADER = struct.Struct("!I")
# Imported once in the zygote: what every release process imports, and what takes the time. Nothing here reads
# Django's settings at import time; drivers that are not installed are skipped.
PRELOAD = (
    "django", "django.db.models", "django.urls", "django.http", "django.core.management",
    "django.core.management.commands.migrate", "django.core.management.commands.sqlmigrate",
    "django.db.migrations.executor", "django.db.migrations.autodetector",
    "psycopg", "django.db.backends.postgresql.base", "pymysql", "sqlite3", "django.db.backends.sqlite3.base",
)


# The zygote.

def _serve(address: str) -> None:
    """Preload, then fork one child per request on the socket at ``address``, until the process that started the
    zygote has ended (it stops the zygote at its exit; this covers a process that was killed)."""
    parent = os.getppid()
    for module in PRELOAD:
        try:
            __import__(module)
        except ImportError:  # a driver this environment lacks: its children import nothing of it either
            pass
    base_path = [p for p in sys.path[1:] if p not in _pythonpath(os.environ)]
    # Children are reaped by the kernel; each reports its own exit code to its client.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen(64)
    listener.settimeout(1.0)  # accepted sockets block all the same (no default timeout is set)
    print("ready", flush=True)
    while True:
        try:
            channel, _ = listener.accept()
        except TimeoutError:
            if os.getppid() != parent:
                os.unlink(address)
                os.rmdir(os.path.dirname(address))
                return
            continue
        try:
            header, fds, _, _ = socket.recv_fds(channel, HEADER.size, 3)
            request = json.loads(_receive(channel, HEADER.unpack(header)[0]))
        except Exception as error:  # a client that went away: nothing to start
            _close(channel, *locals().get("fds", []))
            print(f"zygote: bad request: {error!r}", file=sys.stderr, flush=True)
            continue
        pid = os.fork()
        if pid == 0:
            listener.close()
            _child(channel, fds, request, base_path)  # never returns
        _close(*fds)
        try:
            channel.sendall(f"pid {pid}\n".encode())
        except OSError:
            pass
        channel.close()


def _receive(channel: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = channel.recv(size - len(data))
        if not chunk:
            raise EOFError("the request ended early")
        data += chunk
    return data


def _child(channel: socket.socket, fds: list[int], request: dict, base_path: list[str]) -> None:
    """In the forked child: become the command, run it, report its exit code on ``channel``, exit."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        _close(*fds)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        flag, main, *args = request["argv"]
        first = os.getcwd() if flag == "-m" else ""  # as the interpreter puts it first for -m and for -c
        sys.path[:] = [first, *_pythonpath(os.environ), *base_path]
        try:
            if flag == "-m":
                import runpy

                sys.argv = [main, *args]
                runpy.run_module(main, run_name="__main__", alter_sys=True)
            else:
                sys.argv = ["-c", *args]
                exec(compile(main, "<string>", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 0 if exit_.code is None else 1
            if not isinstance(exit_.code, int | None):
                print(exit_.code, file=sys.stderr)
        except BaseException:  # what the interpreter would print and exit 1 with
            traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        try:
            channel.sendall(f"exit {code}\n".encode())
        except OSError:
            pass
        os._exit(code)


def _pythonpath(environ) -> list[str]:
    return [p for p in environ.get("PYTHONPATH", "").split(os.pathsep) if p]


def _close(*items) -> None:
    for item in items:
        try:
            item.close() if hasattr(item, "close") else os.close(item)
        except OSError:
            pass


# The client.

class Process:
    """A command the zygote started: like :class:`subprocess.Popen` with ``stdin``, ``stdout`` and ``stderr``
    pipes in text mode. Its exit code comes from the child itself; a child killed by a signal reports none, and
    its ``returncode`` is minus the signal this object sent it (or -1)."""

    def __init__(self, channel: socket.socket, stdin, stdout, stderr):
        self._channel = channel
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr
        self.pid: int | None = None
        self.returncode: int | None = None
        self._signal = 0
        self._pending = b""
        # The zygote's "pid N" and the child's "exit N" come on one channel, in either order.
        while self.pid is None:
            if not self._receive(None):
                raise RuntimeError("the zygote closed the connection before it started the command")

    def poll(self) -> int | None:
        """The exit code if the command has ended, else None."""
        if self.returncode is None:
            self._read_status(0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the command to end; its exit code."""
        if self.returncode is None:
            self._read_status(timeout)
            if self.returncode is None:
                raise subprocess.TimeoutExpired(f"process {self.pid}", timeout)
        return self.returncode

    def _read_status(self, timeout: float | None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                if not self._receive(remaining):  # ended without a report: a signal killed it
                    self.returncode = -self._signal if self._signal else -1
            except (TimeoutError, BlockingIOError):
                return
        self._channel.close()

    def _receive(self, timeout: float | None) -> bool:
        """Read what the channel has, and take in every whole line; False at the end of the channel."""
        self._channel.settimeout(timeout)
        chunk = self._channel.recv(256)
        self._pending += chunk
        *lines, self._pending = self._pending.split(b"\n")
        for line in lines:
            kind, value = line.decode().split()
            if kind == "pid":
                self.pid = int(value)
            elif kind == "exit":
                self.returncode = int(value)
        return bool(chunk)

    def send_signal(self, number: int) -> None:
        if self.poll() is None:
            self._signal = number
            try:
                os.kill(self.pid, number)
            except ProcessLookupError:
                pass

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def communicate(self, input: str | None = None, timeout: float | None = None) -> tuple[str, str]:
        """Send ``input``, read both outputs to their end, wait for the exit code: as Popen.communicate does."""
        if self.stdin:
            if input:
                self.stdin.write(input)
            self.stdin.close()
            self.stdin = None
        deadline = None if timeout is None else time.monotonic() + timeout
        chunks = {"out": [], "err": []}
        with selectors.DefaultSelector() as selector:
            for name, stream in (("out", self.stdout), ("err", self.stderr)):
                if stream and not stream.closed:
                    selector.register(stream.fileno(), selectors.EVENT_READ, name)
            while selector.get_map():
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise subprocess.TimeoutExpired(f"process {self.pid}", timeout)
                for key, _ in selector.select(remaining):
                    data = os.read(key.fd, 65536)
                    if data:
                        chunks[key.data].append(data)
                    else:
                        selector.unregister(key.fd)
        for stream in (self.stdout, self.stderr):
            stream.close()
        self.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return tuple(b"".join(chunks[name]).decode("utf-8", errors="replace") for name in ("out", "err"))


class _Zygote:
    """The zygote process of this interpreter and the address of its socket, started on first use."""

    def __init__(self):
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._folder: str | None = None

    def address(self) -> str:
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._start()
            return os.path.join(self._folder, "zygote")

    def _start(self) -> None:
        self._folder = tempfile.mkdtemp(prefix="handbook-zygote-")
        address = os.path.join(self._folder, "zygote")
        repo = str(Path(__file__).resolve().parents[1])
        env = {**os.environ, "PYTHONPATH": repo}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        self._process = subprocess.Popen([sys.executable, "-m", "lab.zygote", address], env=env, cwd=repo,
                                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                         text=True)
        if self._process.stdout.readline().strip() != "ready":
            raise RuntimeError("the zygote did not start: run with HANDBOOK_ZYGOTE=0 to see the commands' errors")

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        if self._folder:
            for name in ("zygote",):
                Path(self._folder, name).unlink(missing_ok=True)
            os.rmdir(self._folder)
            self._folder = None


_ZYGOTE = _Zygote()
atexit.register(_ZYGOTE.stop)


def enabled() -> bool:
    """Whether commands are forked from the zygote (``HANDBOOK_ZYGOTE`` is not ``0``, and the system can fork)."""
    return os.environ.get(VARIABLE, "1") != "0" and hasattr(os, "fork") and hasattr(socket, "send_fds")


def spawn(argv: list[str], *, cwd: str | os.PathLike, env: dict[str, str], stdin: bool = False):
    """Start ``python ARGV`` (``argv`` begins with ``-m`` or ``-c``) with pipes for stdout and stderr (and stdin
    if asked): a :class:`Process` forked from the zygote, or a :class:`subprocess.Popen` when it is disabled."""
    if not enabled():
        return subprocess.Popen([sys.executable, *argv], cwd=cwd, env=env, text=True,
                                stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdin_r, stdin_w = os.pipe() if stdin else (os.open(os.devnull, os.O_RDONLY), None)
    stdout_r, stdout_w = os.pipe()
    stderr_r, stderr_w = os.pipe()
    channel = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        channel.connect(_ZYGOTE.address())
        request = json.dumps({"argv": list(argv), "cwd": str(cwd), "env": dict(env)}).encode()
        socket.send_fds(channel, [HEADER.pack(len(request))], [stdin_r, stdout_w, stderr_w])
        channel.sendall(request)
    except BaseException:
        _close(channel, stdin_r, stdout_w, stderr_w, *(fd for fd in (stdin_w, stdout_r, stderr_r) if fd is not None))
        raise
    _close(stdin_r, stdout_w, stderr_w)  # the child has its own copies now
    streams = (os.fdopen(stdin_w, "w", encoding="utf-8") if stdin_w is not None else None,
               os.fdopen(stdout_r, "r", encoding="utf-8"), os.fdopen(stderr_r, "r", encoding="utf-8"))
    try:
        return Process(channel, *streams)
    except BaseException:
        _close(channel, *(stream for stream in streams if stream))
        raise


def run(argv: list[str], *, cwd: str | os.PathLike, env: dict[str, str],
        timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run ``python ARGV`` to its end, output captured as text: as :func:`subprocess.run` with ``capture_output``."""
    process = spawn(argv, cwd=cwd, env=env)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    return subprocess.CompletedProcess([sys.executable, *argv], process.returncode, out, err)


if __name__ == "__main__":
    _serve(sys.argv[1])
