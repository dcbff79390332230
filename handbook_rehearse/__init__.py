"""Rehearse a project's unapplied migrations on a production-like database: ``manage.py rehearse``.

Add ``"handbook_rehearse"`` to ``INSTALLED_APPS`` and point a database alias at a copy of production (a restored
backup, a clone of a template, or tables filled to stated row counts). The command runs each migration that is
not applied yet while the code that serves today reads and writes the tables it touches, watches the locks each
statement takes, and judges the result against a budget. It applies the migrations: never point it at production.
"""
