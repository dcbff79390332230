"""Serve the handbook's Sphinx JSON build inside a Django site.

Built on django-sphinx-view: its JSON builder (extended in
:mod:`handbook_embed.sphinx`) and its ``DocumentationView`` (extended in
:mod:`handbook_embed.views`). Add ``"handbook_embed"`` to ``INSTALLED_APPS``
and include :mod:`handbook_embed.urls` under a prefix.
"""
