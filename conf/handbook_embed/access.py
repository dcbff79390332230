"""Who may read the handbook, set by ``settings.HANDBOOK_ACCESS``.

``"public"`` (everyone), ``"login"`` (signed-in users) or ``"staff"``
(users with ``is_staff``).
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied

LEVELS = ("public", "login", "staff")


def access_level() -> str:
    """The configured level, ``"public"`` when unset."""
    return getattr(settings, "HANDBOOK_ACCESS", "public")


def refuse_an_unknown_level() -> None:
    """Raise ImproperlyConfigured naming the setting when HANDBOOK_ACCESS is not a known level: a misspelt level
    ("Staff") must not open the handbook to everyone signed in."""
    level = access_level()
    if level not in LEVELS:
        raise ImproperlyConfigured(f"HANDBOOK_ACCESS is {level!r}: use one of {', '.join(LEVELS)}.")


class HandbookAccessMixin:
    """Sends anonymous users to the login page and turns away non-staff when needed."""

    def dispatch(self, request, *args, **kwargs):
        level = access_level()
        if level not in LEVELS:  # changed after start-up: closed, never open
            raise PermissionDenied("The handbook's access level is misconfigured.")
        user = request.user
        if level != "public" and not user.is_authenticated:
            # Imported here: importing the auth views needs the apps ready, and the publish command has no site.
            from django.contrib.auth.views import redirect_to_login

            return redirect_to_login(request.get_full_path())
        if level == "staff" and not user.is_staff:
            raise PermissionDenied("The handbook is open to staff only.")
        return super().dispatch(request, *args, **kwargs)
