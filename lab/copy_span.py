"""How long a migration's schema change ran on a table, as the lock view saw it.

MariaDB's process list shows a copying ``ALTER TABLE`` in several states one after another ("copy to tmp table",
then "Committing alter table to storage engine" and others). The copy runs from the first state seen to the end of
the last, not for its longest state alone, which a claim on the copy's length would undercount.
"""

from __future__ import annotations

from lab.deploy import DeployReport


def copy_ms(report: DeployReport, table: str) -> float:
    """From the first moment the lock view saw the migration on ``table`` to the last, in ms; 0 if never seen."""
    seen = report.locks.held("migrate", table) if report.locks else []
    return (max(s.last for s in seen) - min(s.first for s in seen)) * 1000 if seen else 0.0
