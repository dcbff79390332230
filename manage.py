#!/usr/bin/env python
"""Django's command-line utility for the site that embeds the handbook."""

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    # The site and the embed app live in conf/.
    sys.path.insert(0, str(Path(__file__).resolve().parent / "conf"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "handbook_site.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as error:  # a setting is missing or wrong: say which, without a traceback
        sys.exit(f"The site is not configured: {error}")
