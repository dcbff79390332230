"""docs/reference/rehearse.md documents every option the command takes."""

import re

from handbook_rehearse.management.commands.rehearse import Command
from lab.releases import REPO

PAGE = REPO / "docs" / "reference" / "rehearse.md"
DJANGO_OWN = {"--version", "--verbosity", "--settings", "--pythonpath", "--traceback", "--no-color", "--force-color",
              "--skip-checks", "--help"}


def test_the_reference_lists_every_option_of_the_command():
    parser = Command().create_parser("manage.py", "rehearse")
    options = {s for action in parser._actions for s in action.option_strings if s.startswith("--")} - DJANGO_OWN
    documented = set(re.findall(r"`(--[a-z-]+)", PAGE.read_text()))
    assert options == documented, f"undocumented: {options - documented}; not options: {documented - options}"
