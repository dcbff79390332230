"""Which page of the handbook explains a finding and gives its recipe.

A lock or a wait is blamed on the statement that held it; the statement's SQL names the page. A failure of the
code that serves is blamed on the migration's operations: what they remove, rename or require.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import migrations

from .plan import flatten


@dataclass(frozen=True)
class Page:
    """A page of the handbook: its path under the handbook's root, and its title."""

    path: str
    title: str

    def url(self, root: str) -> str:
        """The page's address under ``root`` (the handbook's URL), or its path when no root is given."""
        return f"{root.rstrip('/')}/{self.path}/" if root else self.path


INDEX = Page("guides/add-index-concurrently", "Add an index without blocking writes")
FOREIGN_KEY = Page("guides/add-a-foreign-key", "Add a foreign key without a long lock on either table")
CONSTRAINT = Page("guides/add-a-constraint", "Loosen constraints before the code, tighten them after")
COLUMN_TYPE = Page("guides/change-a-column-type", "Change a column's type without a long lock")
ADD_AND_FILL = Page("guides/add-a-column-and-fill-it", "Add a column and fill it without locking")
REMOVE = Page("guides/remove-a-field", "Remove a field in two releases")
RENAME = Page("guides/rename-a-field", "Rename a field: don't")
TWO_RELEASES = Page("guides/two-releases-for-rolling-updates", "Two releases for rolling updates")
LOCK_TIMEOUT = Page("guides/lock-timeout-and-retries", "Give migrations a lock timeout, and retry")
DEPLOY_FIRST = Page("guides/deploy-migrations-first", "Deploy migrations first")
LOCKS = Page("docs/reference/locks", "Which lock each operation takes")
REHEARSE = Page("guides/rehearse-on-production-like-data", "Rehearse migrations on production-like data")

# In this order: a foreign key's statements also build an index, and the page for the key covers both.
_STATEMENT_PAGES = [
    (r"\bFOREIGN\s+KEY\b|\bREFERENCES\b", FOREIGN_KEY),
    (r"\bCREATE\s+(UNIQUE\s+)?INDEX\b(?!\s+CONCURRENTLY)", INDEX),
    (r"\bADD\s+CONSTRAINT\b|\bVALIDATE\s+CONSTRAINT\b|\bADD\s+(UNIQUE|CHECK)\b", CONSTRAINT),
    (r"\bALTER\s+COLUMN\b[^;]*\bTYPE\b|\bMODIFY\b|\bCHANGE\s+COLUMN\b", COLUMN_TYPE),
    (r"\bSET\s+NOT\s+NULL\b", ADD_AND_FILL),
    (r"\bADD\s+(COLUMN\b|\"|`)", ADD_AND_FILL),
    (r"^\s*(UPDATE|INSERT|DELETE)\b", ADD_AND_FILL),
    (r"\bDROP\s+(COLUMN|TABLE)\b", REMOVE),
    (r"\bRENAME\b", RENAME),
]


def for_statements(statements: list[str]) -> Page:
    """The page whose recipe avoids the long lock these statements took together (the lock reference when none
    is more precise)."""
    for pattern, page in _STATEMENT_PAGES:
        if any(re.search(pattern, sql, re.IGNORECASE | re.MULTILINE) for sql in statements):
            return page
    return LOCKS


def for_operations(operations: list) -> Page:
    """The page whose recipe keeps running code working through these operations (state changes included)."""
    flat = list(flatten(operations))
    kinds = {type(operation) for operation in flat}
    if kinds & {migrations.RenameField, migrations.RenameModel, migrations.AlterModelTable}:
        return RENAME
    if any(isinstance(o, migrations.AlterField) and "db_column" in o.field.deconstruct()[3] for o in flat):
        return RENAME
    if kinds & {migrations.RemoveField, migrations.DeleteModel}:
        return REMOVE
    if any(isinstance(o, migrations.AlterField) and not o.field.null for o in flat):
        return TWO_RELEASES
    if any(isinstance(o, migrations.AddField) and not o.field.null for o in flat):
        return ADD_AND_FILL
    return DEPLOY_FIRST

