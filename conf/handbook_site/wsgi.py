"""WSGI entry point of the site that embeds the handbook."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "handbook_site.settings")
application = get_wsgi_application()

# No system check runs when a WSGI server imports this module: refuse to start without a build to serve.
from handbook_embed.build import require  # noqa: E402 (needs the settings loaded above)

require()
