"""WSGI entry point of the site that embeds the handbook."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "handbook_site.settings")
application = get_wsgi_application()
