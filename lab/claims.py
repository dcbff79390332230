"""Check a guide's claim, and fail with everything a reader needs when it stops holding."""

from __future__ import annotations

from .engines import Engine


class ClaimFailed(AssertionError):
    """A guide claims something the real engine no longer does."""


def check(holds: bool, *, guide: str, claim: str, engine: Engine, observed: str) -> None:
    """Raise :class:`ClaimFailed` naming the guide, the claim, the engine and what was seen instead."""
    if not holds:
        raise ClaimFailed(
            f"\nguides/{guide}.md claims: {claim}\n"
            f"engine: {engine.label} ({engine.origin})\n"
            f"observed instead:\n  " + observed.replace("\n", "\n  ")
        )
