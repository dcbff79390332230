"""The app of the release this process runs, under the example's fixed label.

Every release folder of an example is the same app at a different point in
its life, so all of them share one label (and so one migration history and
the same tables).
"""

from django.apps import AppConfig
from django.conf import settings


class Release(AppConfig):
    name = settings.HANDBOOK_RELEASE
    label = settings.HANDBOOK_APP_LABEL
    default_auto_field = "django.db.models.BigAutoField"
