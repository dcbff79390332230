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
    story.heading(f"Figures, {engine.label}, {options.rows:,} rows")
    names = list(results)
    keys = list(results[names[0]]["figures"])
    story.say(f"{'':28}" + "".join(f"{demo.OPERATIONS[name]:>28}" for name in names))
    for key in keys:
        values = "".join(f"{_format(results[name]['figures'][key]):>28}" for name in names)
        story.say(f"{key.replace('_', ' '):28}{values}")
    return 0


def _format(value) -> str:
    if isinstance(value, list):
        return ", ".join(value) or "none"
    return "n/a" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


if __name__ == "__main__":
    sys.exit(main())
