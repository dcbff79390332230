from django.apps import AppConfig


class HandbookEmbedConfig(AppConfig):
    name = "handbook_embed"
    verbose_name = "Handbook of safe Django migrations"

    def ready(self):
        from . import checks  # noqa: F401 - registers the system checks
        from .access import refuse_an_unknown_level

        # Before any request, and where no system check runs (a WSGI server importing the site).
        refuse_an_unknown_level()
