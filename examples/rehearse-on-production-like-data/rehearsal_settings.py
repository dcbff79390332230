# Added to the end of a project's settings.py: the rehearsal app, and a database alias for the copy it runs on.
import json
import os

INSTALLED_APPS += ["handbook_rehearse"]  # noqa: F821 (settings.py defines it above)
DATABASES["rehearsal"] = json.loads(os.environ["REHEARSAL_DATABASE"])  # noqa: F821
