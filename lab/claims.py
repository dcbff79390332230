"""Check a guide's claim on real data, and its contrast: the case where the same claim must fail.

A claim is a predicate over what a run produced (a deploy report, figures, a
schema). :func:`check` asserts it on the run the guide speaks of. Every claim
also names its **contrast**: a release or condition under which the very same
predicate must be false ("reads go on" against a migration that takes ACCESS
EXCLUSIVE). A claim whose contrast also holds proves nothing: the test could
not fail.

Contrasts often need runs of their own, so they are evaluated only when
pytest runs with ``--contrasts`` (or when :data:`MODE` says so); the plugin
prints how many claims and contrasts ran.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TypeVar

from .engines import Engine

S = TypeVar("S")

# Whether contrasts run: set by the pytest plugin's --contrasts option.
MODE = {"contrasts": False}
# What ran in this process: claims checked, contrasts run, and each claim's text once.
TALLY: Counter = Counter()


class ClaimFailed(AssertionError):
    """A guide claims something the real engine no longer does."""


class ContrastHeld(AssertionError):
    """A claim also held under its contrast: the test behind it cannot fail."""


def check(
    claim: str,
    holds: Callable[[S], bool],
    subject: S,
    *,
    guide: str,
    engine: Engine,
    contrast: str,
    against: Callable[[], S],
    observed: Callable[[S], str] = str,
) -> None:
    """Assert ``holds(subject)``; with contrasts on, also assert ``not holds(against())``.

    ``guide`` is a guide's slug, or a page's path without ``.md`` (``docs/reference/locks``);
    ``claim`` is the page's sentence, ``contrast`` names the release or
    condition ``against`` produces, and ``observed`` renders a subject for the
    failure message. Raises :class:`ClaimFailed` or :class:`ContrastHeld`.
    """
    if not contrast.strip():
        raise ValueError(f"the claim {claim!r} names no contrast")
    TALLY["claims"] += 1
    if not holds(subject):
        raise ClaimFailed(_message(guide, claim, engine, "observed instead", observed(subject)))
    if not MODE["contrasts"]:
        return
    TALLY["contrasts"] += 1
    other = against()
    if holds(other):
        TALLY["contrasts held"] += 1
        raise ContrastHeld(_message(
            guide, claim, engine, f"it also held under its contrast, {contrast}, so the test cannot fail",
            observed(other),
        ))


def _message(guide: str, claim: str, engine: Engine, heading: str, text: str) -> str:
    return (
        f"\n{guide if '/' in guide else 'guides/' + guide}.md claims: {claim}\n"
        f"engine: {engine.label} ({engine.origin})\n"
        f"{heading}:\n  " + str(text).replace("\n", "\n  ")
    )

