"""Django settings shared by every example project.

An example's ``settings.py`` calls :func:`example_settings`. Which release
of the app runs, and on which database, comes from the environment that
:mod:`lab.releases` sets for each process.
"""

import json
import os
from pathlib import Path

RELEASE_VARIABLE = "HANDBOOK_RELEASE"
DATABASE_VARIABLE = "HANDBOOK_DATABASE"
SERVING_VARIABLE = "HANDBOOK_SERVING"  # set in the processes of a release's web site (lab.site)
RELEASE_HEADER = "X-Release"  # the header in which the site's pages name the release that answered (lab.site_urls)


def example_settings(settings_file: str, app_label: str) -> dict:
    """Settings for the release named by ``HANDBOOK_RELEASE`` of the app labelled ``app_label``."""
    example_dir = Path(settings_file).resolve().parent
    release = os.environ.get(RELEASE_VARIABLE)
    if not release:
        raise RuntimeError(f"{RELEASE_VARIABLE} is not set: name one of the release_* folders of {example_dir}.")
    if not (example_dir / release).is_dir():
        raise RuntimeError(f"{RELEASE_VARIABLE}={release}: no such folder in {example_dir}.")
    default_database = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(example_dir / "db.sqlite3")}
    database = json.loads(os.environ.get(DATABASE_VARIABLE) or "null") or default_database
    if database["ENGINE"].endswith("mysql"):
        mysql_driver()
    if os.environ.get(SERVING_VARIABLE):
        # A web worker keeps its connection between requests, as production sites do.
        database.update(CONN_MAX_AGE=600, CONN_HEALTH_CHECKS=True)
    if database["ENGINE"].endswith("sqlite3"):
        # Writers queue behind a migration instead of failing at once.
        database.setdefault("OPTIONS", {}).setdefault("timeout", 20)
    return {
        "SECRET_KEY": "example-project-not-secret",
        "DEBUG": False,
        # The release's site in the lab (lab.site_urls), served by gunicorn behind nginx on this machine only.
        "ROOT_URLCONF": "lab.site_urls",
        "ALLOWED_HOSTS": ["127.0.0.1", "localhost"],
        "USE_TZ": True,
        # handbook_rehearse: its tests rehearse the examples' releases (it adds a command, no models).
        "INSTALLED_APPS": ["lab.release_app.Release", "handbook_rehearse"],
        "DATABASES": {"default": database},
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "HANDBOOK_RELEASE": release,
        "HANDBOOK_APP_LABEL": app_label,
    }


def mysql_driver() -> None:
    """Let Django's MySQL backend use PyMySQL, which installs anywhere without a compiler."""
    import pymysql

    # Django checks the mysqlclient version it expects; PyMySQL speaks the same API.
    pymysql.version_info = (2, 2, 1, "final", 0)
    pymysql.install_as_MySQLdb()
