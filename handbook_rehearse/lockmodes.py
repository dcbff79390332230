"""The table lock modes of PostgreSQL and MariaDB: their names, their order, and which ones reads and writes wait for.

The one vocabulary of the instrument (:mod:`.lockreads`, :mod:`.watch`, :mod:`.trace`) and of whatever reads its
findings.
"""

from __future__ import annotations

# pg_locks names modes after the server's C constants; SQL and the documentation use these names. Weakest first.
PG_MODES = {
    "AccessShareLock": "ACCESS SHARE",
    "RowShareLock": "ROW SHARE",
    "RowExclusiveLock": "ROW EXCLUSIVE",
    "ShareUpdateExclusiveLock": "SHARE UPDATE EXCLUSIVE",
    "ShareLock": "SHARE",
    "ShareRowExclusiveLock": "SHARE ROW EXCLUSIVE",
    "ExclusiveLock": "EXCLUSIVE",
    "AccessExclusiveLock": "ACCESS EXCLUSIVE",
}
_AS, _RS, _RX, _SUX, _S, _SRX, _X, _AX = PG_MODES.values()
# PostgreSQL's documentation, "Table-Level Lock Modes" (table "Conflicting Lock Modes"): what each mode conflicts with.
CONFLICTS = {
    _AS: {_AX},
    _RS: {_X, _AX},
    _RX: {_S, _SRX, _X, _AX},
    _SUX: {_SUX, _S, _SRX, _X, _AX},
    _S: {_RX, _SUX, _SRX, _X, _AX},
    _SRX: {_RX, _SUX, _S, _SRX, _X, _AX},
    _X: {_RS, _RX, _SUX, _S, _SRX, _X, _AX},
    _AX: set(PG_MODES.values()),
}
# MariaDB's metadata lock modes, in the order of its enum (sql/mdl.cc), roughly weakest first.
MDL_MODES = [
    "MDL_INTENTION_EXCLUSIVE", "MDL_SHARED", "MDL_SHARED_HIGH_PRIO", "MDL_SHARED_READ", "MDL_SHARED_WRITE",
    "MDL_SHARED_UPGRADABLE", "MDL_SHARED_READ_ONLY", "MDL_SHARED_NO_WRITE", "MDL_SHARED_NO_READ_WRITE", "MDL_EXCLUSIVE",
]
# From its compatibility matrix (MDL_object_lock::m_granted_incompatible): the held modes that a reader's
# MDL_SHARED_READ, and a writer's MDL_SHARED_WRITE, must wait for.
MDL_READS_WAIT_FOR = {"MDL_SHARED_NO_READ_WRITE", "MDL_EXCLUSIVE"}
MDL_WRITES_WAIT_FOR = {"MDL_SHARED_READ_ONLY", "MDL_SHARED_NO_WRITE", "MDL_SHARED_NO_READ_WRITE", "MDL_EXCLUSIVE"}
# Per mode: whether it blocks reads (PostgreSQL: conflicts with ACCESS SHARE, which SELECT takes) and writes
# (conflicts with ROW EXCLUSIVE, which INSERT, UPDATE and DELETE take); likewise for MariaDB's modes.
BLOCKS = {
    **{mode: {"reads": _AS in conflicts, "writes": _RX in conflicts} for mode, conflicts in CONFLICTS.items()},
    **{mode: {"reads": mode in MDL_READS_WAIT_FOR, "writes": mode in MDL_WRITES_WAIT_FOR} for mode in MDL_MODES},
}
# Each engine's modes, weakest first: comparable within an engine.
RANK = {mode: rank for modes in (list(PG_MODES.values()), MDL_MODES) for rank, mode in enumerate(modes)}


def sql_lock_name(mode: str) -> str:
    """SQL's name of a PostgreSQL lock mode (``ShareLock`` -> ``SHARE``); other names unchanged."""
    return PG_MODES.get(mode, mode)


def blocks_writes(mode: str) -> bool:
    """Whether INSERT, UPDATE and DELETE on a table must wait while ``mode`` is held on it."""
    return BLOCKS.get(mode, {}).get("writes", False)


def blocks_reads(mode: str) -> bool:
    """Whether SELECT on a table must wait while ``mode`` is held on it."""
    return BLOCKS.get(mode, {}).get("reads", False)


def strongest_first(modes) -> list[str]:
    """Distinct ``modes``, strongest first."""
    return sorted(set(modes), key=lambda mode: -RANK.get(mode, -1))
