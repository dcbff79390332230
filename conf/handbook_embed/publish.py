"""Publish a new JSON build to a serving site without a gap: check it, then switch a link to it atomically.

    python -m handbook_embed.publish NEW_BUILD --link LINK [--keep N]

``HANDBOOK_JSON_BUILD_DIR`` names ``LINK``, a symbolic link to the build being served. Build the pages into a new
directory (never over the one being served: a page read half-written would mix two builds), then run this. It
loads the new build as the site would and refuses it if it cannot be served or a page of it cannot be read; else
it points ``LINK`` at it with one ``rename``, so each request finds the old build or the new one, never neither.
The site loads the new build at its next request. ``--keep N`` then deletes other builds beside the new one,
keeping N: the new one, the one served until now, then the newest. Keep at least 2, since requests that started
just before the switch still read files of the previous build. Run again after a failure: every step is safe to repeat.

Publishes to one link run one at a time, each whole (check, switch, prune) while it holds the link's lock; each also
holds a shared lock on its own build from its start, and ``--keep`` never deletes a build so held: a publish waiting
for its turn keeps its build, however many others publish and prune before it.

Exit status: 0 published (an older build that could not be deleted is reported, and the status stays 0), 1 refused
(the build cannot be served, or LINK is not a link), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path

from .build import GLOBAL_CONTEXT, BuildMissing, load


class Refused(Exception):
    """The build was not published; the message says why."""


@contextmanager
def _held(folder: Path, mode: int):
    """A lock on the directory ``folder`` itself (``flock``), released on leaving, or when the process dies; yields the
    open descriptor it holds the lock through."""
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(descriptor, mode)
        yield descriptor
    finally:
        os.close(descriptor)


def _checked(new_build: Path) -> int:
    """The number of pages of ``new_build``, once it loads whole as the site would load it."""
    try:
        loaded = load(new_build)
    except BuildMissing as error:
        raise Refused(str(error)) from None
    if loaded.broken:
        pages = ", ".join(url or "/" for url in sorted(loaded.broken))
        raise Refused(f"{len(loaded.broken)} page(s) of {new_build} cannot be read: {pages}.")
    return len(loaded.pages)


@contextmanager
def claimed(new_build: Path):
    """Hold a shared lock on ``new_build`` while it waits to be published and is published: :func:`prune` leaves
    a build so held alone. Refused if a prune deleted it while this waited for the lock."""
    if not new_build.is_dir():
        _checked(new_build)  # refused, saying what is missing
    with _held(new_build, fcntl.LOCK_SH) as descriptor:
        held = os.fstat(descriptor)
        try:
            now = os.stat(new_build)
        except FileNotFoundError:
            now = None
        if held.st_nlink == 0 or now is None or (now.st_dev, now.st_ino) != (held.st_dev, held.st_ino):
            raise Refused(f"{new_build} was deleted by an older publish's --keep before its turn came: build it "
                          f"again, then publish.")
        yield


@contextmanager
def turn(link: Path):
    """The link's lock: one publish at a time per link; a second waits for the first instead of colliding with it."""
    with open(link.with_name(f".{link.name}.publish-lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def publish(new_build: Path, link: Path) -> tuple[int, Path | None]:
    """Point ``link`` at ``new_build`` after checking the build loads whole; return its number of pages and the
    build the link pointed at before. Call it holding the link's :func:`turn`, so that no other publish changes the
    link or deletes builds between the check and the switch."""
    pages = _checked(new_build)
    if link.exists() and not link.is_symlink():
        raise Refused(f"{link} is a directory, not a link: move it aside (say to {link}.old), then publish again.")
    previous = link.resolve() if link.is_symlink() else None
    staged = link.with_name(f".{link.name}.publishing")
    if staged.is_symlink() or staged.is_file():
        staged.unlink()  # left by a run that stopped half-way
    staged.symlink_to(new_build.resolve(), target_is_directory=True)
    os.replace(staged, link)  # rename(2): atomic, the link is never missing
    return pages, previous


def prune(new_build: Path, previous: Path | None, keep: int) -> tuple[list[Path], list[str]]:
    """Delete the builds beside ``new_build`` (folders holding a JSON build) but ``keep`` of them: the new one, the
    one served before it, then the newest; and never one that another publish holds (:func:`claimed`). Return those
    deleted, and a line for each that could not be. Nothing is deleted when ``new_build`` was already the one served:
    the build served before it is not known then."""
    new_build = new_build.resolve()
    if previous == new_build:
        return [], []
    builds = {}
    for folder in new_build.parent.iterdir():
        try:
            if folder.is_dir() and not folder.is_symlink() and (folder / GLOBAL_CONTEXT).is_file():
                builds[folder] = folder.stat().st_mtime
        except FileNotFoundError:  # removed meanwhile, by something other than a publish
            continue
    ranked = sorted(builds, key=lambda folder: (folder == new_build, folder == previous, builds[folder]), reverse=True)
    removed, problems = [], []
    for folder in ranked[keep:]:
        try:
            # Held until the folder is gone: a publish that claims it meanwhile waits, then finds it deleted.
            with _held(folder, fcntl.LOCK_EX | fcntl.LOCK_NB):
                shutil.rmtree(folder)
        except BlockingIOError:  # another publish holds it: waiting for its turn, or being published
            continue
        except OSError as error:
            problems.append(f"Could not remove the older build {folder}: {error.strerror}: "
                            f"{error.filename or folder}")
            continue
        removed.append(folder)
    return removed, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m handbook_embed.publish", description=__doc__.split("\n\n")[0])
    parser.add_argument("new_build", type=Path, help="the directory sphinx-build -b json -t embed wrote")
    parser.add_argument("--link", type=Path, required=True, help="the link HANDBOOK_JSON_BUILD_DIR names")
    parser.add_argument("--keep", type=int, default=None, metavar="N",
                        help="then delete other builds beside NEW_BUILD, keeping N: the new, the previous, the newest "
                             "(and any build another publish is waiting with)")
    arguments = parser.parse_args(argv)
    if arguments.keep is not None and arguments.keep < 2:
        parser.error("--keep must be 2 or more: requests started before the switch still read the previous build")
    try:
        with claimed(arguments.new_build), turn(arguments.link):
            pages, previous = publish(arguments.new_build, arguments.link)
            print(f"Published {arguments.new_build} ({pages} pages) at {arguments.link}.", flush=True)
            removed, problems = [], []
            if arguments.keep is not None:
                try:  # published by now: a failure here is reported, never as "Not published"
                    removed, problems = prune(arguments.new_build, previous, arguments.keep)
                except OSError as error:
                    problems = [f"Could not look for older builds: {error.strerror}: "
                                f"{error.filename or arguments.new_build.parent}"]
    except Refused as error:
        print(f"Not published: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # the link's folder cannot be written, say
        print(f"Not published: {error.strerror}: {error.filename}", file=sys.stderr)
        return 1
    for folder in removed:
        print(f"Removed the older build {folder}.")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
