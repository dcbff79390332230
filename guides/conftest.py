"""Runs the code blocks written into the guides, where they live (see lab.doctests)."""

from lab.doctests import sybil

pytest_collect_file = sybil.pytest()
