"""The site as production runs it: gunicorn, static files through WhiteNoise, settings from the environment; and a
new build published while it serves."""

import fcntl
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from handbook_embed import publish as publisher
from handbook_embed.build import load

from .production import REPO, free_port, gunicorn_environment, marked_copy, prepare, serve, start_gunicorn

WORKERS = 2
MARK = re.compile(r"build-mark-\d+")


@pytest.fixture(scope="module")
def site(tmp_path_factory, json_build, html_build):
    """gunicorn serving the handbook; its JSON build is ``build/json``, a link to ``builds/1``."""
    root = tmp_path_factory.mktemp("production")
    (root / "builds").mkdir()
    (root / "build").mkdir()
    marked_copy(json_build, root / "builds" / "1", "build-mark-1")
    (root / "build" / "json").symlink_to(root / "builds" / "1", target_is_directory=True)
    (root / "build" / "html").symlink_to(html_build, target_is_directory=True)
    environment = gunicorn_environment(root / "build", root, free_port(), WORKERS)
    prepare(environment)
    server = serve(environment, root / "gunicorn.log")
    server.root = root
    yield server
    server.stop()


def test_gunicorn_serves_pages_search_and_the_site_static_files(site):
    status, headers, body = site.get("/handbook/docs/checklist/")
    assert status == 200 and "gunicorn" in headers["server"]
    assert b"Acme Engineering" in body and b"build-mark-" in body
    assert site.get("/handbook/search/?q=rolling+deploy")[0] == 200
    assert site.get("/handbook/_images/deploy-order.svg")[0] == 200
    # The site's own CSS comes from collectstatic's folder through WhiteNoise, which says so with its caching rule;
    # a Django view would not.
    status, headers, body = site.get("/static/handbook_site/site.css")
    assert status == 200 and "max-age=60" in headers["cache-control"] and body
    etag = site.get("/handbook/docs/checklist/")[1]["etag"]
    assert site.get("/handbook/docs/checklist/", **{"If-None-Match": etag})[0] == 304


def test_production_hides_errors_and_foreign_hosts(site):
    site.get("/handbook/"), site.get("/handbook/")  # kept by RenderedPagesMiddleware: the host is checked all the same
    status, _, body = site.get("/handbook/", Host="attacker.example")
    assert status == 400 and b"DJANGO_SECRET_KEY" not in body and b"Traceback" not in body
    status, _, body = site.get("/no-such-page/")
    assert status == 404 and b"URLconf" not in body and b"Traceback" not in body


@pytest.mark.parametrize("missing", ["build", "secret"])
def test_gunicorn_refuses_to_start_with_one_line_naming_what_is_wrong(tmp_path, build_root, missing):
    environment = gunicorn_environment(tmp_path / "nothing" if missing == "build" else build_root, tmp_path,
                                       free_port(), 1)
    if missing == "secret":
        del environment["DJANGO_SECRET_KEY"]
    process = start_gunicorn(environment, tmp_path / "log")
    assert process.wait(timeout=60) != 0
    output = (tmp_path / "log").read_text()
    expected = "json does not exist" if missing == "build" else "DJANGO_SECRET_KEY is not set"
    assert output.startswith("The site cannot start:") and expected in output and "Traceback" not in output, output


def publish(*args):
    return subprocess.run([sys.executable, "-m", "handbook_embed.publish", *map(str, args)], cwd=REPO / "conf",
                          capture_output=True, text=True, timeout=60)


@pytest.mark.once  # the build's switch and loading, the same on every Django
def test_publish_refuses_a_build_that_cannot_be_served(json_copy, tmp_path):
    link = tmp_path / "served"
    (json_copy / "docs" / "checklist.fjson").write_text("{ half written")
    result = publish(json_copy, "--link", link)
    assert result.returncode == 1 and "docs/checklist/" in result.stderr and not link.exists(), result.stderr
    result = publish(tmp_path / "empty", "--link", link)
    assert result.returncode == 1 and "does not exist" in result.stderr
    (tmp_path / "real").mkdir()
    (json_copy / "docs" / "checklist.fjson").unlink()
    result = publish(json_copy, "--link", tmp_path / "real")
    assert result.returncode == 1 and "is a directory, not a link" in result.stderr
    assert "Traceback" not in result.stderr
    assert publish(json_copy, "--link", link, "--keep", "1").returncode == 2


@pytest.mark.once  # the build's switch and loading, the same on every Django
def test_publish_switches_the_link_and_keeps_the_new_and_the_previous_builds(json_build, tmp_path):
    link, builds = tmp_path / "served", tmp_path / "builds"
    for number in (1, 2):
        build = marked_copy(json_build, builds / str(number), f"build-mark-{number}")
        result = publish(build, "--link", link, "--keep", "2")
        assert result.returncode == 0 and "Published" in result.stdout, result.stderr
        assert link.resolve() == build.resolve()
    # A build made ahead, newer than the one served but never published, is the one that goes: not the previous.
    newer = marked_copy(json_build, builds / "made-ahead", "build-mark-9")
    os.utime(newer, (time.time() + 60, time.time() + 60))
    third = marked_copy(json_build, builds / "3", "build-mark-3")
    assert publish(third, "--link", link, "--keep", "2").returncode == 0
    assert sorted(folder.name for folder in builds.iterdir()) == ["2", "3"]
    # Run again after a failure half-way (its staged link left behind): it completes.
    (tmp_path / ".served.publishing").symlink_to(builds / "2")
    assert publish(builds / "2", "--link", link).returncode == 0 and link.resolve() == (builds / "2").resolve()


def _held_by_another(folder) -> bool:
    """Whether some process holds a lock on the directory ``folder`` (a publish waiting with it)."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(descriptor)


@pytest.mark.once  # the build's switch and loading, the same on every Django
def test_a_publish_waiting_for_its_turn_keeps_its_build_whatever_the_publish_before_it_prunes(json_build, tmp_path):
    link, builds = tmp_path / "served", tmp_path / "builds"
    assert publish(marked_copy(json_build, builds / "1", "build-mark-1"), "--link", link).returncode == 0
    waiting = marked_copy(json_build, builds / "2", "build-mark-2")  # the oldest unpublished build: the first to go
    ahead = marked_copy(json_build, builds / "3", "build-mark-3")
    # Another publish has the link's turn (this test holds it): the publish of build 2 starts, and waits.
    with open(tmp_path / ".served.publish-lock", "w") as turn:
        fcntl.flock(turn, fcntl.LOCK_EX)
        second = subprocess.Popen([sys.executable, "-m", "handbook_embed.publish", str(waiting), "--link", str(link),
                                   "--keep", "2"], cwd=REPO / "conf", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        deadline = time.monotonic() + 30
        while not _held_by_another(waiting) and second.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _held_by_another(waiting), f"the publish of build 2 never claimed it: {second.communicate()}"

        def holding_the_turn():  # what the publish that has the turn does: switch to build 3, keep 2 builds
            pages, previous = publisher.publish(ahead, link)
            done["pruned"] = publisher.prune(ahead, previous, 2)

        done = {}
        other = threading.Thread(target=holding_the_turn, daemon=True)
        other.start()
        other.join(30)
        assert not other.is_alive(), "the publish that has the link's turn waited for it"
        assert waiting.is_dir() and done["pruned"] == ([], []), done
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0 and "Published" in out and "Traceback" not in err, err
    assert link.resolve() == waiting.resolve() and load(link).pages and not load(link).broken
    # Its own prune, once published: build 1 goes, the new one and the one served before it stay.
    assert sorted(folder.name for folder in builds.iterdir()) == ["2", "3"]


@pytest.mark.once  # the build's switch and loading, the same on every Django
def test_a_build_deleted_while_its_publish_waited_is_refused_not_published(json_build, tmp_path):
    build = marked_copy(json_build, tmp_path / "builds" / "1", "build-mark-1")
    refused = []

    def claim():
        try:
            with publisher.claimed(build):
                pass
        except publisher.Refused as error:
            refused.append(str(error))

    # An older publish's --keep holds the build while it deletes it; the claim arrives meanwhile.
    descriptor = os.open(build, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        claimer = threading.Thread(target=claim)
        claimer.start()
        time.sleep(0.2)
        shutil.rmtree(build)
    finally:
        os.close(descriptor)
    claimer.join(30)
    assert refused and ("deleted" in refused[0] or "does not exist" in refused[0]), refused


@pytest.mark.once  # the build's switch and loading, the same on every Django
def test_publishes_started_together_leave_the_link_on_a_build_that_loads(json_build, tmp_path):
    link, builds = tmp_path / "served", tmp_path / "builds"
    assert publish(marked_copy(json_build, builds / "0", "build-mark-0"), "--link", link).returncode == 0
    for trial in range(3):
        made = [marked_copy(json_build, builds / f"{trial}-{n}", f"build-mark-{trial}{n}") for n in range(3)]
        with ThreadPoolExecutor(len(made)) as pool:
            results = list(pool.map(lambda build: publish(build, "--link", link, "--keep", "2"), made))
        # A build whose publish had not yet started when another's --keep ran may be gone: that publish says so.
        for result in results:
            published = result.returncode == 0 and "Published" in result.stdout
            gone = (result.returncode == 1 and "Published" not in result.stdout
                    and ("does not exist" in result.stderr or "was deleted by an older publish" in result.stderr))
            assert (published or gone) and "Traceback" not in result.stderr, (result.stdout, result.stderr)
        assert any(result.returncode == 0 for result in results)
        served = load(link)
        assert link.resolve().is_dir() and served.pages and not served.broken, f"trial {trial}: {link.resolve()}"
        assert len(list(builds.iterdir())) == 2, sorted(folder.name for folder in builds.iterdir())


PATHS = ["/handbook/", "/handbook/docs/checklist/", "/handbook/guides/remove-a-field/",
         "/handbook/_images/deploy-order.svg"]


def under_load(site, replace_build, clients: int = 4, builds: int = 4, pause: float = 0.3) -> dict:
    """``clients`` threads request pages and a picture without pause while ``replace_build(number)`` puts new
    builds in place, ``pause`` seconds apart; what they met."""
    stop, lock = threading.Event(), threading.Lock()
    met = {"requests": 0, "failed": [], "mixed": [], "seen": set(), "published": []}

    def client(number):
        while not stop.is_set():
            path = PATHS[number % len(PATHS)]
            number += 1
            try:
                status, _, body = site.get(path)
            except OSError as error:
                status, body = repr(error), b""
            marks = set(MARK.findall(body.decode(errors="replace"))) if path.endswith("/") else {"file"}
            with lock:
                met["requests"] += 1
                if status != 200:
                    met["failed"].append((path, status))
                elif len(marks) != 1:
                    met["mixed"].append((path, sorted(marks)))
                met["seen"] |= marks

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    try:
        for number in range(builds):
            time.sleep(pause)
            met["published"].append(replace_build(number))
        time.sleep(pause)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    return met


@pytest.mark.once  # the build's switch and loading, the same on every Django
def test_a_build_published_under_load_loses_no_request_and_mixes_no_page(site, json_build):
    def publish_next(number):
        name = f"published-{number}"
        build = marked_copy(json_build, site.root / "builds" / name, f"build-mark-{number + 2}")
        result = publish(build, "--link", site.root / "build" / "json", "--keep", "3")
        assert result.returncode == 0, result.stderr
        return number + 2

    met = under_load(site, publish_next)
    print(f"published: {met['requests']} requests, {len(met['published'])} builds, marks seen {sorted(met['seen'])}")
    assert met["requests"] > 100
    assert not met["failed"], met["failed"][:5]
    assert not met["mixed"], met["mixed"][:5]
    # The new builds were served: the switches were seen, not slept through.
    assert f"build-mark-{met['published'][-1]}" in met["seen"] and len(met["seen"] - {"file"}) >= 3


@pytest.mark.once  # the build's switch and loading, the same on every Django
def test_contrast_a_build_copied_over_the_served_one_loses_requests(site, json_build):
    """The same load while each new build replaces the served folder by deleting it and copying the new one in, as
    a plain deploy script might: requests meet a missing or half-copied build."""
    served = site.root / "build" / "json"
    staged = [marked_copy(json_build, site.root / "builds" / f"copied-{n}", f"build-mark-{n + 20}") for n in range(4)]
    published = served.resolve()
    served.unlink()
    shutil.copytree(staged[0], served)

    def copy_over(number):
        shutil.rmtree(served)
        shutil.copytree(staged[number], served)
        return number + 20

    try:
        met = under_load(site, copy_over)
    finally:  # the served build is a link again, as the other tests of the module expect
        shutil.rmtree(served)
        served.symlink_to(published, target_is_directory=True)
    print(f"copied over: {met['requests']} requests, {len(met['failed'])} failed, {len(met['mixed'])} mixed")
    assert met["failed"] or met["mixed"], "copying over the served build lost nothing: the load missed the window"
