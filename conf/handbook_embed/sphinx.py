"""Sphinx side of the embed: the JSON builder that the Django views read.

django-sphinx-view's builder adds each page's navigation (toctree) to the
JSON. This one also puts the root document at the top of the URL space, so
that the handbook's front page (``docs/index``) is served at the prefix
itself (``/handbook/``) with every relative link in it still correct.
"""

from pathlib import Path

from sphinx_view import SphinxViewBuilder
from sphinxcontrib.serializinghtml import ENV_PICKLE_FILENAME


class HandbookJSONBuilder(SphinxViewBuilder):
    """JSON builder whose root document's URL is the empty path."""

    def get_target_uri(self, docname: str, typ: str | None = None) -> str:
        if docname == self.config.root_doc:
            return ""
        return super().get_target_uri(docname, typ)

    def handle_finish(self) -> None:
        # The stock builder copies the environment without overwriting, so every
        # rebuild after the first warned (and failed under -W). Nothing reads it.
        Path(self.outdir, ENV_PICKLE_FILENAME).unlink(missing_ok=True)
        super().handle_finish()


def setup(app):
    """Register the builder under the name ``json``, replacing the stock one."""
    app.add_builder(HandbookJSONBuilder, override=True)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
