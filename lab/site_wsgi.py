"""The WSGI application of a release's site in the lab (:mod:`lab.site_urls`), for gunicorn:
``lab.site_wsgi:application``."""

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
