"""Gunicorn's settings for the site in production: gunicorn -c conf/handbook_site/gunicorn.conf.py

Settings of the site itself come from the environment (production.env lists them). These may too:
GUNICORN_BIND (127.0.0.1:8000) and GUNICORN_WORKERS (two per CPU, plus one).
"""

import os
import sys
from pathlib import Path

# The site and the embed app live in conf/.
pythonpath = str(Path(__file__).resolve().parents[1])
wsgi_app = "handbook_site.wsgi:application"
bind = [os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")]
workers = int(os.environ.get("GUNICORN_WORKERS", 2 * (os.cpu_count() or 1) + 1))
# Load the site once, before the workers fork: a missing build or a bad setting stops the server at start-up, with
# the message, instead of every worker failing in turn.
preload_app = True
accesslog = "-"
# A request that takes longer is a bug (pages are read from memory); do not hold a worker for it.
timeout = 30
graceful_timeout = 10


def _refuse_a_site_that_cannot_serve() -> None:
    """Stop here, with one line naming what is wrong, when a setting is missing or wrong or there is no build to
    serve: loading the application later would print a traceback instead."""
    sys.path.insert(0, pythonpath)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "handbook_site.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
        from handbook_embed.build import require

        require()
    except ImproperlyConfigured as error:
        sys.exit(f"The site cannot start: {error}")


_refuse_a_site_that_cannot_serve()


def post_fork(server, worker):
    """Each worker loads the build itself: the one the master loaded holds an SQLite connection (the search index),
    which must not be shared across fork()."""
    from handbook_embed import build

    build.forget()
