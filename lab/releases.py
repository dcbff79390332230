"""An example's releases, each run in a process of its own.

A release is a folder ``examples/<slug>/release_*/``: the app as one deploy
ships it (models, migrations, management commands, workload). Django reads
its settings once per process, so each command runs in a new one.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from . import zygote
from .engines import Database
from .example_settings import DATABASE_VARIABLE, RELEASE_VARIABLE

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"


def example_dir(slug: str) -> Path:
    """The folder of the example for guide ``slug``."""
    path = EXAMPLES / slug
    if not (path / "settings.py").is_file():
        raise LookupError(f"No example project at {path} (expected {path / 'settings.py'}).")
    return path


@dataclass(frozen=True)
class CommandRun:
    """What one management command did: its exit code, output and duration."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    started: float  # wall-clock seconds, comparable across processes
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def ended(self) -> float:
        return self.started + self.seconds

    def error_line(self) -> str:
        """The last line of the error output: the exception a failure ended with."""
        lines = [line for line in self.stderr.strip().splitlines() if line.strip()]
        return lines[-1] if lines else ""


@dataclass(frozen=True)
class Release:
    """One release of an example, runnable against any database."""

    slug: str
    name: str

    @property
    def path(self) -> Path:
        return example_dir(self.slug) / self.name

    def environment(self, database: Database, role: str) -> dict[str, str]:
        """The environment of a process of this release; ``role`` names it to the database."""
        settings = json.loads(json.dumps(database.settings))
        if database.engine.vendor == "postgresql":
            settings.setdefault("OPTIONS", {})["application_name"] = f"{self.name}:{role}"
        python_path = os.pathsep.join([str(example_dir(self.slug)), str(REPO)])
        return {
            **os.environ,
            "PYTHONPATH": python_path,
            "DJANGO_SETTINGS_MODULE": "settings",
            RELEASE_VARIABLE: self.name,
            DATABASE_VARIABLE: json.dumps(settings),
        }

    def command(self, *args: str) -> list[str]:
        """The interpreter's arguments for ``django-admin ARGS`` in this release."""
        return ["-m", "django", *args]

    def run(self, *args: str, database: Database, role: str = "manage", timeout: float = 600) -> CommandRun:
        """Run a management command to completion, timed."""
        return self._run(self.command(*args), tuple(args), database, role, timeout)

    def run_python(self, code: str, *args: str, database: Database, role: str = "manage",
                   timeout: float = 600) -> CommandRun:
        """Run Python ``code`` in a process of this release (``sys.argv[1:]`` is ``args``), to completion, timed."""
        return self._run(["-c", code, *args], ("python", *args), database, role, timeout)

    def _run(self, argv: list[str], args: tuple[str, ...], database: Database, role: str,
             timeout: float) -> CommandRun:
        started, clock = time.time(), time.perf_counter()
        result = zygote.run(argv, cwd=example_dir(self.slug), env=self.environment(database, role), timeout=timeout)
        return CommandRun(args, result.returncode, result.stdout, result.stderr, started,
                          time.perf_counter() - clock)

    def start(self, *args: str, database: Database, role: str, stdin: bool = False):
        """Start a management command (or ``-m module``, or ``-c code``) in the background: a process with text
        pipes for its output (and its input, if ``stdin``), like :class:`subprocess.Popen` (see :mod:`lab.zygote`)."""
        argv = list(args) if args[0] in ("-m", "-c") else self.command(*args)
        return zygote.spawn(argv, cwd=example_dir(self.slug), env=self.environment(database, role), stdin=stdin)


def releases(slug: str) -> list[Release]:
    """Every release of an example, in folder order."""
    return [Release(slug, p.name) for p in sorted(example_dir(slug).glob("release_*")) if p.is_dir()]


def example_module(slug: str, name: str):
    """Import ``examples/<slug>/<name>.py`` under a name unique to the example."""
    import importlib.util

    module_name = f"examples_{slug.replace('-', '_')}_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, example_dir(slug) / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
