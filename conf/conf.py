"""Sphinx configuration for the handbook.

The source directory is the repository root (``sphinx-build -c conf .``);
only ``docs/`` and ``guides/`` are read. Two faces are built from it:

* HTML (the team handbook), themed with furo;
* JSON with the ``embed`` tag (``-t embed``), for the Django site that
  embeds the pages. furo cannot render through the JSON builder, so that
  build uses Sphinx's plain ``basic`` theme; the host site brings the look.
"""

import sys
from pathlib import Path

# Makes ``handbook_embed`` (beside this file) importable as an extension.
sys.path.insert(0, str(Path(__file__).resolve().parent))

project = "The handbook of safe Django migrations"
author = "The handbook's authors"
copyright = "2026, the handbook's authors"

root_doc = "docs/index"
include_patterns = ["docs/**", "guides/**"]
exclude_patterns = ["**/README.md"]

extensions = [
    "handbook_evidence",
    "myst_parser",
    "sphinx_copybutton",
    "sphinx_design",
]
if tags.has("embed"):  # noqa: F821 - ``tags`` is injected by Sphinx
    # The JSON builder of django-sphinx-view, with clean URLs for the front page.
    extensions.append("handbook_embed.sphinx")

myst_enable_extensions = ["colon_fence", "deflist", "attrs_inline"]
myst_heading_anchors = 3

nitpicky = True
templates_path = []
html_static_path = []
html_title = "Safe Django migrations"

# Neither face publishes the Markdown sources: the pages are the product, and the sources show raw directives.
# (The JSON builder's copy of them also warned on every rebuild.)
html_copy_source = False
html_show_sourcelink = False
if tags.has("embed"):  # noqa: F821
    html_theme = "basic"
else:
    html_theme = "furo"
    # ``/`` of the HTML build lands on the front page, which lives in docs/.
    html_extra_path = ["_root"]
