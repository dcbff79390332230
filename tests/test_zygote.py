"""lab.zygote: a command forked from the zygote behaves as the same command started as a new process."""

import os
import signal
import sys
import threading
from pathlib import Path

import pytest

from lab import zygote

# The lab's process starter: the same on every Django, so the first leg alone runs it.
pytestmark = pytest.mark.once

SHOW = """
import json, os, sys
print(json.dumps({"argv": sys.argv, "cwd": os.getcwd(), "marker": os.environ.get("MARKER"),
                  "path0": sys.path[0], "on_path": os.environ["EXTRA"] in sys.path}))
print("to stderr", file=sys.stderr)
"""


@pytest.fixture(params=["zygote", "subprocess"])
def mode(request, monkeypatch):
    """Each test runs forked from the zygote and as a plain subprocess: the two must agree."""
    monkeypatch.setenv(zygote.VARIABLE, "1" if request.param == "zygote" else "0")
    if request.param == "zygote" and not zygote.enabled():
        pytest.skip("this system cannot fork from a zygote")
    return request.param


def environment(tmp_path: Path, **extra) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tmp_path), "EXTRA": str(tmp_path), **extra}


def test_arguments_folder_environment_path_and_streams_are_the_commands(mode, tmp_path):
    import json

    done = zygote.run(["-c", SHOW, "one", "two"], cwd=tmp_path, env=environment(tmp_path, MARKER=mode))
    shown = json.loads(done.stdout)
    assert done.returncode == 0 and done.stderr == "to stderr\n"
    assert shown == {"argv": ["-c", "one", "two"], "cwd": str(tmp_path), "marker": mode, "path0": "",
                     "on_path": True}


def test_a_module_runs_as_main_with_its_folder_first_on_the_path(mode, tmp_path):
    (tmp_path / "hello.py").write_text("import sys\nif __name__ == '__main__':\n    print(sys.argv[1:], sys.path[0])\n")
    done = zygote.run(["-m", "hello", "x"], cwd=tmp_path, env=environment(tmp_path))
    assert (done.returncode, done.stdout) == (0, f"['x'] {tmp_path}\n")


@pytest.mark.parametrize("code,returncode,stderr", [
    ("import sys; sys.exit(3)", 3, ""),
    ("import sys; sys.exit('gone wrong')", 1, "gone wrong\n"),
    ("raise ValueError('bad input')", 1, "ValueError: bad input\n"),
])
def test_exit_codes_and_errors_are_the_interpreters(mode, tmp_path, code, returncode, stderr):
    done = zygote.run(["-c", code], cwd=tmp_path, env=environment(tmp_path))
    assert done.returncode == returncode and done.stderr.endswith(stderr), done.stderr


def test_input_is_read_and_signals_reach_the_command(mode, tmp_path):
    echo = zygote.spawn(["-c", "import sys\nfor line in sys.stdin: print(line.upper(), end='', flush=True)"],
                        cwd=tmp_path, env=environment(tmp_path), stdin=True)
    echo.stdin.write("applied\n")
    echo.stdin.flush()
    assert echo.stdout.readline() == "APPLIED\n"
    assert echo.communicate(timeout=30) == ("", "") and echo.returncode == 0

    sleeper = zygote.spawn(["-c", "import time; print('ready', flush=True); time.sleep(60)"], cwd=tmp_path,
                           env=environment(tmp_path))
    assert sleeper.stdout.readline() == "ready\n" and sleeper.poll() is None
    sleeper.send_signal(signal.SIGTERM)
    sleeper.communicate(timeout=30)
    assert sleeper.returncode == -signal.SIGTERM


def test_a_long_output_does_not_block_and_a_timeout_is_raised(mode, tmp_path):
    done = zygote.run(["-c", "print('x' * 1_000_000)"], cwd=tmp_path, env=environment(tmp_path))
    assert len(done.stdout) == 1_000_001
    import subprocess

    with pytest.raises(subprocess.TimeoutExpired):
        zygote.run(["-c", "import time; time.sleep(30)"], cwd=tmp_path, env=environment(tmp_path), timeout=0.5)


def test_children_draw_different_random_numbers_and_start_from_several_threads(mode, tmp_path):
    results = []

    def draw():
        results.append(zygote.run(["-c", "import random, uuid; print(random.random(), uuid.uuid4())"], cwd=tmp_path,
                                  env=environment(tmp_path)).stdout)

    threads = [threading.Thread(target=draw) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 6 and all(results), results


def test_the_zygote_is_the_running_interpreter(tmp_path, monkeypatch):
    monkeypatch.setenv(zygote.VARIABLE, "1")
    if not zygote.enabled():
        pytest.skip("this system cannot fork from a zygote")
    done = zygote.run(["-c", "import sys; print(sys.executable, sys.version)"], cwd=tmp_path, env=environment(tmp_path))
    assert done.stdout == f"{sys.executable} {sys.version}\n"


ORPHANING = """
import os, sys, time
from lab import zygote
zygote.run(["-c", "pass"], cwd=os.getcwd(), env=dict(os.environ))
print(zygote._ZYGOTE._process.pid, flush=True)
time.sleep(60)
"""


def running(pid: int) -> bool:
    """Whether the process runs (a zombie, ended but not yet reaped, does not)."""
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def test_the_zygote_ends_when_the_process_that_started_it_is_killed(tmp_path):
    import subprocess
    import time

    if not zygote.enabled() or not Path("/proc").is_dir():
        pytest.skip("this system cannot fork from a zygote, or has no /proc to watch it")
    repo = str(Path(zygote.__file__).resolve().parents[1])
    starter = subprocess.Popen([sys.executable, "-c", ORPHANING], cwd=tmp_path, stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": repo, zygote.VARIABLE: "1"})
    pid = int(starter.stdout.readline())
    assert running(pid)
    starter.kill()  # no atexit: the zygote must notice by itself
    starter.wait()
    deadline = time.monotonic() + 10
    while running(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not running(pid), f"the zygote {pid} outlived the process that started it"
