"""Evidence shown in guides is current: made from the example as it is now."""

import json

import pytest

from lab import evidence

# The recorded evidence files: the same on every Django, so the first leg alone runs it.
pytestmark = pytest.mark.once

SLUGS = evidence.examples_with_demonstrations()


@pytest.mark.parametrize("slug", SLUGS)
def test_evidence_was_made_from_the_current_example(slug):
    problem = evidence.staleness(slug)
    assert problem is None, problem


@pytest.mark.parametrize("slug", SLUGS)
def test_evidence_names_engine_version_rows_and_date(slug):
    record = evidence.load(slug)
    assert record["runs"], "no engine ran"
    for run in record["runs"]:
        assert run["label"].split()[-1][0].isdigit(), run["label"]
        assert run["rows"] > 0
    assert record["generated"]


def test_fingerprint_changes_with_the_example(tmp_path, monkeypatch):
    example = tmp_path / "examples" / "some-guide"
    (example / "release_1").mkdir(parents=True)
    (example / "settings.py").write_text("x = 1\n")
    (example / "release_1" / "models.py").write_text("a = 1\n")
    monkeypatch.setattr(evidence, "example_dir", lambda slug: tmp_path / "examples" / slug)
    before = evidence.fingerprint("some-guide")
    (example / "tests").mkdir()
    (example / "tests" / "test_x.py").write_text("pass\n")
    assert evidence.fingerprint("some-guide") == before, "tests are not part of what the evidence shows"
    (example / "release_1" / "models.py").write_text("a = 2\n")
    assert evidence.fingerprint("some-guide") != before


def test_a_hand_edited_figure_makes_the_evidence_untrusted(tmp_path, monkeypatch):
    slug = SLUGS[0]
    record = evidence.load(slug)
    assert evidence.staleness(slug) is None or "changed after" in evidence.staleness(slug)
    edited = json.loads(json.dumps(record))
    first_step = next(key for key in edited["runs"][0] if isinstance(edited["runs"][0][key], dict))
    edited["runs"][0][first_step]["migration_ms"] = 1
    monkeypatch.setattr(evidence, "load", lambda _slug: edited)
    problem = evidence.staleness(slug)
    assert problem and "edited after it was made" in problem, problem
    monkeypatch.setattr(evidence, "load", lambda _slug: record)
    assert evidence.staleness(slug) is None or "edited" not in evidence.staleness(slug)


def test_every_step_states_the_rows_it_ran_on():
    for slug in SLUGS:
        record = evidence.load(slug)
        for label in record["operations"]:
            # A step may run on one engine only (a statement of that engine's); it must run somewhere.
            ran = [run for run in record["runs"] if label in run]
            assert ran, (slug, label, "recorded by no engine")
            for run in ran:
                assert run[label]["rows"] > 0, (slug, run["engine"], label)


@pytest.mark.parametrize("slug", SLUGS)
def test_the_demo_prints_every_recorded_step(slug):
    """``nox -s demo`` ends by printing each step's figures: every step any engine recorded must print."""
    from lab.demo import summary

    for run in evidence.load(slug)["runs"]:
        for label in evidence.load(slug)["operations"]:
            if label in run:
                figures = {name: value for name, value in run[label].items() if name != "rows"}
                assert summary(figures).strip(), (slug, run["engine"], label)


def test_an_instrument_is_fingerprinted_however_the_demonstration_imports_it():
    assert evidence._imports("from lab import trace, verbs\n", "lab.trace")
    assert evidence._imports("from lab.trace import trace_chain\n", "lab.trace")
    assert evidence._imports("from lab.site_deploy import LiveSite\n", "lab.site")
    assert not evidence._imports("from lab import traffic\n# see lab.trace\n", "lab.trace")
