"""The lock modes the guides' tables show, traced when the evidence was recorded, are what a new trace finds.

A demonstration lists in ``TRACED`` the migrations of each step whose lock modes its guide shows; ``nox -s evidence``
traces them statement by statement (:func:`lab.trace.trace_steps`). Here each is traced again, on every engine with a
recorded run of its major version, and must take the same modes; the contrast is a step, of the same guide if one
differs, else of another, whose recorded modes differ: the same comparison must tell them apart.
"""

from __future__ import annotations

import pytest

from handbook_rehearse.lockmodes import strongest_first
from lab import evidence
from lab.claims import check
from lab.releases import example_module
from lab.trace import traced_modes, traces_needed

TRACING = [slug for slug in evidence.examples_with_demonstrations()
           if getattr(example_module(slug, "demonstration"), "TRACED", None)]


def shown(run: dict, label: str, figures: dict) -> dict:
    """What the guide shows of ``label``'s traced modes, figure by figure."""
    found = {}
    for name in figures:
        value = run[label]
        for part in name.split("."):
            value = value[part]
        found[name] = value
    return found


@pytest.mark.once
@pytest.mark.parametrize("slug", TRACING)
def test_the_traced_lock_modes_a_guide_shows_are_traced_again(slug, engine, new_database):
    if engine.vendor == "sqlite":
        pytest.skip("SQLite has no lock modes: any schema change locks the whole file for writing")
    run = evidence.recorded_run(slug, engine)
    if run is None:
        pytest.skip(f"{slug} has no recorded run on {engine.label}: run nox -s evidence -- {slug}")
    ran = [label for label in steps_of(slug) if label in run]
    assert ran, f"{slug}: no step of TRACED was recorded on {engine.label}"
    # Every traced step of every guide recorded on this engine, this guide's first, with what its guide shows: where
    # to find a contrast. Each record is read once.
    runs = {slug: run, **{other: evidence.recorded_run(other, engine) for other in TRACING if other != slug}}
    candidates = [((other, label), shown(other_run, label, steps_of(other)[label][2]))
                  for other, other_run in runs.items() if other_run for label in steps_of(other) if label in other_run]

    def traced_now(of: tuple[str, str], stated: dict | None = None) -> dict:
        """The modes a new trace finds. On MariaDB, where polling can miss a brief lock on a busy machine, up to
        :func:`lab.trace.traces_needed` traces are united, stopping once they agree with ``stated``."""
        other, label = of
        release, migrations, figures = steps_of(other)[label]
        united: dict[str, set] = {name: set() for name in figures}
        for _ in range(traces_needed(engine.vendor)):
            traced = traced_modes(release, "shop", migrations, new_database(engine), list(figures.values()))
            for name, table in figures.items():
                united[name] |= set(traced[table])
            found = {name: strongest_first(modes) for name, modes in united.items()}
            if stated is not None and agrees(found, stated):
                break
        return found

    def agrees(found: dict, stated: dict) -> bool:
        """Whether a trace now gives the modes stated. PostgreSQL's trace is exact: the same modes. MariaDB's locks
        are seen by polling, which can miss a brief one: each table's strongest mode as stated, and no mode the
        guide does not list (as the lock reference's tests judge it)."""
        if engine.vendor != "mysql":
            return found == stated
        return found.keys() == stated.keys() and all(
            found[name][:1] == stated[name][:1] and set(found[name]) <= set(stated[name]) for name in stated)

    for label in ran:
        stated = shown(run, label, steps_of(slug)[label][2])
        other = next((step for step, modes in candidates if not agrees(modes, stated)), None)
        assert other, f"every step recorded on {engine.label} agrees with {stated}: no step to contrast {label} with"
        check(f"step {label!r}: the lock modes the guide's table shows are those a new trace finds",
              lambda found: agrees(found, stated), traced_now((slug, label), stated),
              contrast=f"{other[0]}'s step {other[1]!r}, whose recorded modes differ",
              against=lambda: traced_now(other), guide=slug, engine=engine)


def steps_of(slug: str) -> dict:
    """The demonstration's TRACED steps: label -> (release, migrations, {figure name: table})."""
    return example_module(slug, "demonstration").TRACED
