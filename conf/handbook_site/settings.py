"""Settings of the site that embeds the handbook.

Paths and the secret come from the environment where a deploy sets them;
the defaults suit a developer's machine.
"""

import os
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parents[2]
BUILD_DIR = Path(os.environ.get("HANDBOOK_BUILD_ROOT", REPO_DIR / "_build"))

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "handbook-site-for-local-use-only")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "handbook_site",
]

# [embed-settings-start]
INSTALLED_APPS += ["handbook_embed"]
# The JSON build of the handbook: sphinx-build -b json -t embed -c conf . _build/json
HANDBOOK_JSON_BUILD_DIR = BUILD_DIR / "json"
# Who may read it: "public", "login" (signed-in users) or "staff".
HANDBOOK_ACCESS = os.environ.get("HANDBOOK_ACCESS", "public")
# Handbook pages extend this template of yours; it needs the blocks
# "title", "extra_head" and "content".
HANDBOOK_BASE_TEMPLATE = "base.html"
# [embed-settings-end]

# The standalone HTML build, shown beside the embed for comparison.
HANDBOOK_HTML_BUILD_DIR = BUILD_DIR / "html"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "handbook_site.urls"
WSGI_APPLICATION = "handbook_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("HANDBOOK_SITE_DB", BUILD_DIR / "handbook-site.sqlite3"),
    }
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_TZ = True
STATIC_URL = "static/"
LOGIN_REDIRECT_URL = "/handbook/"
LOGOUT_REDIRECT_URL = "/handbook/"
