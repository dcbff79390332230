"""The session's timeouts lifted around a concurrent index build: the handbook's operations that build concurrently
share this file (guides/add-index-concurrently.md)."""

from contextlib import contextmanager

# The timeouts that would cancel the build and leave an INVALID index: a migrate wrapper's lock timeout, say.
TIMEOUTS = ("lock_timeout", "statement_timeout", "transaction_timeout")


@contextmanager
def timeouts_lifted(schema_editor):
    """No lock, statement or transaction timeout for what runs inside; the session's own values back after, even if it
    fails.

    The build waits for older transactions, and its SHARE UPDATE EXCLUSIVE lock lets reads and writes through, so
    waiting costs the site nothing. The values are kept in the session (SET, not SET LOCAL: no transaction here), so
    this needs a direct connection to PostgreSQL or a session-mode pool, where the restore reaches the same session.
    """
    # Kept in settings of the session's own, then put back as they were: RESET would drop a value the session SET (a
    # migrate wrapper's lock timeout). Each set only where the server has it: transaction_timeout is PostgreSQL 17's.
    schema_editor.execute("SELECT " + ", ".join(
        f"set_config('migration.saved_{name}', coalesce(current_setting('{name}', true), ''), false)"
        for name in TIMEOUTS))
    for name in TIMEOUTS:
        schema_editor.execute(f"SELECT set_config('{name}', '0', false) "
                              f"WHERE current_setting('{name}', true) IS NOT NULL")
    try:
        yield
    finally:
        for name in TIMEOUTS:
            schema_editor.execute(f"SELECT set_config('{name}', current_setting('migration.saved_{name}'), false) "
                                  f"WHERE current_setting('{name}', true) IS NOT NULL")
