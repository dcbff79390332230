"""Sphinx side of the embed: the JSON builder that the Django views read.

django-sphinx-view's builder adds each page's navigation (toctree) to the
JSON. This one also puts the root document at the top of the URL space, so
that the handbook's front page (``docs/index``) is served at the prefix
itself (``/handbook/``) with every relative link in it still correct, and
colours code in the standalone site's Pygments style.
"""

from pathlib import Path

from sphinx.highlighting import PygmentsBridge
from sphinx_view import SphinxViewBuilder
from sphinxcontrib.serializinghtml import ENV_PICKLE_FILENAME

# furo's light-mode style (its theme.conf), so code looks as on the standalone site. The basic theme
# this build uses names the style "none", which writes a pygments.css without a single colour.
CODE_STYLE = "a11y-light"


class HandbookJSONBuilder(SphinxViewBuilder):
    """JSON builder whose root document's URL is the empty path and whose code is coloured."""

    def init_highlighter(self) -> None:
        super().init_highlighter()
        # A pygments_style set in conf.py applies to both faces; only the theme's default is replaced.
        if self.config.pygments_style is None:
            self.highlighter = PygmentsBridge("html", CODE_STYLE)

    def get_target_uri(self, docname: str, typ: str | None = None) -> str:
        if docname == self.config.root_doc:
            return ""
        return super().get_target_uri(docname, typ)

    def handle_finish(self) -> None:
        # The stock builder copies Sphinx's environment into the build at its end, for a web app that reads it;
        # the embed does not, and the pickle (paths, settings of the build) is not something to publish.
        # Removed before too: the copy does not overwrite, so a rebuild warned (and failed under -W).
        Path(self.outdir, ENV_PICKLE_FILENAME).unlink(missing_ok=True)
        super().handle_finish()
        Path(self.outdir, ENV_PICKLE_FILENAME).unlink(missing_ok=True)


def setup(app):
    """Register the builder under the name ``json``, replacing the stock one."""
    app.add_builder(HandbookJSONBuilder, override=True)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
