"""The claim checker: a claim fails when it stops holding, and a claim whose contrast holds too fails the suite."""

import pytest

from lab import claims
from lab.engines import Engine

# The claim checker: the same on every Django, so the first leg alone runs it.
pytestmark = pytest.mark.once

ENGINE = Engine("postgresql", "18.6", "embedded")


def checked(subject, against, *, contrasts: bool, contrast: str = "the unsafe release"):
    # These checks are about the checker, not about a guide: they leave the run's tally as they found it.
    claims.MODE["contrasts"], before, tally = contrasts, claims.MODE["contrasts"], claims.TALLY.copy()
    try:
        claims.check("writes go on", lambda waited: waited < 100, subject, guide="some-guide", engine=ENGINE,
                     contrast=contrast, against=against)
    finally:
        claims.MODE["contrasts"] = before
        claims.TALLY.clear()
        claims.TALLY.update(tally)


def test_a_claim_that_holds_passes_and_its_contrast_is_only_run_when_asked():
    ran = []
    checked(5, lambda: ran.append(1) or 5_000, contrasts=False)
    assert ran == []
    checked(5, lambda: ran.append(1) or 5_000, contrasts=True)
    assert ran == [1]


def test_a_claim_that_stops_holding_names_guide_claim_engine_and_what_was_seen():
    with pytest.raises(claims.ClaimFailed) as failure:
        checked(5_000, lambda: 5_000, contrasts=False)
    assert "guides/some-guide.md claims: writes go on" in str(failure.value)
    assert "PostgreSQL 18.6" in str(failure.value) and "5000" in str(failure.value)


def test_a_contrast_that_holds_too_fails_the_claim():
    with pytest.raises(claims.ContrastHeld) as failure:
        checked(5, lambda: 7, contrasts=True)
    assert "also held under its contrast, the unsafe release" in str(failure.value)


def test_a_claim_must_name_its_contrast():
    with pytest.raises(ValueError, match="names no contrast"):
        checked(5, lambda: 5_000, contrasts=True, contrast=" ")
    with pytest.raises(TypeError):
        claims.check("x", bool, True, guide="g", engine=ENGINE)  # no contrast at all
