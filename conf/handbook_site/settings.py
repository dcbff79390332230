"""Settings of the site that embeds the handbook.

Everything a deploy decides comes from the environment (see production.env beside this file). The defaults are
safe: DEBUG is off unless ``DJANGO_DEBUG=1`` turns it on (``nox -s serve`` does, for local use), and with DEBUG
off the site refuses to start without ``DJANGO_SECRET_KEY``.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


REPO_DIR = Path(__file__).resolve().parents[2]
BUILD_DIR = Path(os.environ.get("HANDBOOK_BUILD_ROOT", REPO_DIR / "_build"))

DEBUG = _flag("DJANGO_DEBUG")
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it to a long random value (python -c \"from django.core.management."
            "utils import get_random_secret_key as k; print(k())\"), or set DJANGO_DEBUG=1 on a developer's machine."
        )
    SECRET_KEY = "handbook-site-for-local-use-only"  # DEBUG only: never served to anyone else
elif SECRET_KEY.startswith("replace-me"):
    raise ImproperlyConfigured("DJANGO_SECRET_KEY is still production.env's placeholder: set it to your own secret.")
# Comma-separated host names the site answers to; any other Host header gets a plain 400.
ALLOWED_HOSTS = [host.strip() for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
                 .split(",") if host.strip()]

# Behind HTTPS (DJANGO_HTTPS=1): redirect plain HTTP, secure cookies, HSTS.
if _flag("DJANGO_HTTPS"):
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _flag("DJANGO_HSTS_INCLUDE_SUBDOMAINS")
    SECURE_HSTS_PRELOAD = _flag("DJANGO_HSTS_PRELOAD")
    if _flag("DJANGO_BEHIND_PROXY"):  # the proxy ends TLS and says so in X-Forwarded-Proto
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

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
# The JSON build of the handbook (sphinx-build -b json -t embed -c conf . _build/json),
# or the link that python -m handbook_embed.publish switches to each new build.
HANDBOOK_JSON_BUILD_DIR = BUILD_DIR / "json"
# Who may read it: "public", "login" (signed-in users) or "staff".
HANDBOOK_ACCESS = "public"
# Handbook pages extend this template of yours; it needs the blocks
# "title", "extra_head" and "content".
HANDBOOK_BASE_TEMPLATE = "base.html"
# [embed-settings-end]
# This site takes the level from the environment too, and refuses an unknown one here as well as in the app's
# ready(): runserver's reloader only prints errors raised there.
HANDBOOK_ACCESS = os.environ.get("HANDBOOK_ACCESS", HANDBOOK_ACCESS)
if HANDBOOK_ACCESS not in ("public", "login", "staff"):
    raise ImproperlyConfigured(f"HANDBOOK_ACCESS is {HANDBOOK_ACCESS!r}: use one of public, login, staff.")

# The standalone HTML build, shown beside the embed for comparison.
HANDBOOK_HTML_BUILD_DIR = BUILD_DIR / "html"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The site's own static files (its CSS, the admin's), from STATIC_ROOT after collectstatic.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # [embed-middleware-start]
    # Repeat requests for a handbook page from visitors with no cookie, answered before the rest (optional).
    "handbook_embed.middleware.RenderedPagesMiddleware",
    # [embed-middleware-end]
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
# Where manage.py collectstatic gathers the static files, for WhiteNoise to serve.
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BUILD_DIR / "static"))
LOGIN_REDIRECT_URL = "/handbook/"
LOGOUT_REDIRECT_URL = "/handbook/"
