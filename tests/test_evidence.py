"""Evidence shown in guides is current: made from the example as it is now."""

import pytest

from lab import evidence

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
