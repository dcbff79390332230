"""Tell a guide's story on the embedded PostgreSQL: ``nox -s demo -- SLUG``.

Runs the example's demonstration (the unsafe way, then the safe way) on a
throwaway PostgreSQL server, with progress, and ends with the figures.
"""

from __future__ import annotations

import argparse
import sys

from . import engines
from .evidence import DEMO_ROWS, examples_with_demonstrations
from .releases import example_module
from .story import Story


def main(argv: list[str] | None = None) -> int:
    known = examples_with_demonstrations()
    parser = argparse.ArgumentParser(prog="nox -s demo --", description=__doc__.splitlines()[0])
    parser.add_argument("slug", choices=known, metavar="SLUG", help=f"one of: {', '.join(known)}")
    parser.add_argument("--rows", type=int, default=DEMO_ROWS, help=f"rows in the table (default {DEMO_ROWS:,})")
    options = parser.parse_args(argv)

    story = Story()
    with story.step("Starting a throwaway PostgreSQL server"):
        engine = engines.embedded_postgres()
    story.say(f"{engine.label}, embedded")
    demo = example_module(options.slug, "demonstration")
    made = []

    def new_database(engine):
        made.append(engine.create_database())
        return made[-1]

    try:
        results = demo.demonstrate(engine, options.rows, story, new_database)
    finally:
        for database in made:
            database.drop()
    # A step states the rows it ran on when the demonstration chose them (an ordering story needs no million rows).
    rows = sorted({result.get("rows", options.rows) for result in results.values()})
    story.heading(f"Figures, {engine.label}, {' and '.join(f'{r:,}' for r in rows)} rows")
    for name, result in results.items():
        story.say(f"{demo.OPERATIONS[name]}:\n  {summary(result['figures'])}")
    return 0


def summary(figures: dict) -> str:
    """One line of the figures that tell a step's story."""
    if "busy" in figures:  # a migration on the real site, by group of pages: what its visitors saw
        busy, other = figures["busy"], figures["untouched"]
        return (f"took {figures['migration_ms']:,} ms; visitors at {figures['rate']:,}/s (half of "
                f"{figures['capacity']:,}/s): {busy['failed']:,} of {busy['requests']:,} requests on the table failed, "
                f"{other['failed']:,} of {other['requests']:,} on another table (worst wait {other['max']:,.0f} ms); "
                f"{figures['in_flight_max']:,} in flight at most; still failing {figures['failing_after_ms']:,} ms "
                f"after the migration")
    if "migration_ms" not in figures and "lock_modes" not in figures:  # a step of its own: its figures as they are
        return "; ".join(f"{name.replace('_', ' ')} {value:,}" if isinstance(value, int) and not isinstance(value, bool)
                         else f"{name.replace('_', ' ')} {value}" for name, value in figures.items())
    if "migration_ms" not in figures:  # a traced operation (the lock reference), not a deploy
        modes = ", ".join(figures["lock_modes"]) or figures.get("observed", "no lock seen")
        return (f"locks: {modes}; reads wait: {figures['reads_wait']}, writes wait: {figures['writes_wait']}; "
                f"{figures['small_ms']:,} ms at {figures['small_rows']:,} rows, "
                f"{figures['large_ms']:,} ms at {figures['large_rows']:,}")
    traced = figures.get("traced_lock_modes")  # a step whose migration was traced: its modes, exactly
    sampled = figures["lock_modes"]
    modes = ", ".join(traced) + " (traced)" if traced else ", ".join(sampled) if sampled else "none seen"
    parts = [
        # A rollout that ran no migration (code rolled back over a schema kept) has no migration time.
        "no migration" if figures["migration_ms"] is None else f"took {figures['migration_ms']:,} ms",
        f"locks: {modes}" + (f" (longest held {figures['lock_held_ms']:,} ms)" if figures["lock_held_ms"] else ""),
        f"worst wait of a request {figures['request_worst_wait_ms']:,} ms",
        f"{figures['failed_requests']:,} failed requests",
    ]
    if "timeouts" in figures:  # a deploy on the real site (lab.site_verbs): what its visitors saw besides
        parts.append(f"visitors at {figures['rate']:,}/s (half of {figures['capacity']:,}/s): "
                     f"{figures['timeouts']:,} timeouts, {figures['in_flight_max']:,} in flight at most")
    if figures.get("rows_per_second"):
        parts.append(f"{figures['rows_per_second']:,} rows/s")
    return "; ".join(parts)


if __name__ == "__main__":
    sys.exit(main())
