"""Who may read the handbook, set by ``settings.HANDBOOK_ACCESS``.

``"public"`` (everyone), ``"login"`` (signed-in users) or ``"staff"``
(users with ``is_staff``).
"""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

LEVELS = ("public", "login", "staff")


def access_level() -> str:
    """The configured level, ``"public"`` when unset."""
    return getattr(settings, "HANDBOOK_ACCESS", "public")


class HandbookAccessMixin:
    """Sends anonymous users to the login page and turns away non-staff when needed."""

    def dispatch(self, request, *args, **kwargs):
        level = access_level()
        user = request.user
        if level != "public" and not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if level == "staff" and not user.is_staff:
            raise PermissionDenied("The handbook is open to staff only.")
        return super().dispatch(request, *args, **kwargs)
