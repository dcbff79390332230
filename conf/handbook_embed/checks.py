"""System checks: the site refuses to start without a usable JSON build."""

from django.conf import settings
from django.core import checks

from . import build
from .access import LEVELS, access_level


@checks.register()
def check_json_build(app_configs=None, **kwargs):
    """E001: the JSON build is missing, empty or unreadable; W003: a page of it cannot be read (it alone fails)."""
    if not hasattr(settings, "HANDBOOK_JSON_BUILD_DIR"):
        return [
            checks.Error(
                "HANDBOOK_JSON_BUILD_DIR is not set.",
                hint="Set it to the directory of the handbook's JSON build.",
                id="handbook_embed.E001",
            )
        ]
    try:
        loaded = build.load(build.build_directory())
    except build.BuildMissing as error:
        return [checks.Error(str(error), hint=f"Build it with: {build.BUILD_COMMAND}", id="handbook_embed.E001")]
    return [checks.Warning(f"Page {url or '/'} is unavailable: {why}", hint=f"Rebuild: {build.BUILD_COMMAND}",
                           id="handbook_embed.W003") for url, why in loaded.broken.items()]


@checks.register()
def check_access_setting(app_configs=None, **kwargs):
    """E002: HANDBOOK_ACCESS is not one of the known levels."""
    if access_level() in LEVELS:
        return []
    return [
        checks.Error(
            f"HANDBOOK_ACCESS is {access_level()!r}.",
            hint=f"Use one of: {', '.join(LEVELS)}.",
            id="handbook_embed.E002",
        )
    ]
