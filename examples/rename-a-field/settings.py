"""Settings of the example: the release and database come from the environment (see lab.releases)."""

from lab.example_settings import example_settings

globals().update(example_settings(__file__, app_label="shop"))
# The rows Django keeps about a model: its content type, and the permissions on it (guides/rename-a-field.md).
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", *INSTALLED_APPS]  # noqa: F821
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F821
    # The migration reads, then writes rows while the site writes: a deferred transaction that must upgrade its
    # lock gets "database is locked" at once, where an immediate one waits its turn (Django 5.1+).
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"  # noqa: F821
