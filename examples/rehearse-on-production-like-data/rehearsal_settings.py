# Added to the end of a project's settings.py: the rehearsal app, and a database alias for the copy it runs on
# (its settings as JSON in REHEARSAL_DATABASE, set only in the CI job that rehearses).
import json
import os

INSTALLED_APPS += ["handbook_rehearse"]  # noqa: F821 (settings.py defines it above)
if os.environ.get("REHEARSAL_DATABASE"):
    DATABASES["rehearsal"] = json.loads(os.environ["REHEARSAL_DATABASE"])  # noqa: F821
