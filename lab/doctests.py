"""How the code blocks written into guides are run (Sybil, on the MyST source).

Only Python blocks may be written into a guide; everything else is included
from the guide's tested example. ``tests/test_guide_code_blocks.py`` fails on
any block in a language these parsers do not run.
"""

from pathlib import Path

from sybil import Sybil
from sybil.parsers.myst import PythonCodeBlockParser, SkipParser

# The languages whose written blocks are run.
RUN_LANGUAGES = {"python"}

GUIDES = Path(__file__).resolve().parents[1] / "guides"

sybil = Sybil(parsers=[PythonCodeBlockParser(), SkipParser()], patterns=["*.md"], path=str(GUIDES))
