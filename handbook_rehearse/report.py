"""A rehearsal's result, for people (text) and for CI (JSON)."""

from __future__ import annotations

from dataclasses import dataclass, field

import django

from .verdict import Budget, Finding, Rehearsed
from .workload import SERVING, Request

WRITES = ("update", "insert")


@dataclass
class Report:
    """Everything a rehearsal found, and how it was made."""

    database: dict
    budget: Budget
    workload: dict
    tables: dict[str, int]
    rehearsed: list[tuple[Rehearsed, list[Finding]]] = field(default_factory=list)
    next_requests: list[Request] = field(default_factory=list)
    left_out: dict[str, str] = field(default_factory=dict)
    handbook: str = ""

    @property
    def passed(self) -> bool:
        return not any(findings for _, findings in self.rehearsed)

    def to_json(self) -> dict:
        return {
            "passed": self.passed,
            "django": django.get_version(),
            "database": self.database,
            "budget": {"max_lock_ms": self.budget.max_lock * 1000, "max_wait_ms": self.budget.max_wait * 1000},
            "workload": {**self.workload, "left_out": self.left_out},
            "tables": self.tables,
            "migrations": [self._migration_json(r, f) for r, f in self.rehearsed],
            "next_code": _requests_json(self.next_requests),
        }

    def _migration_json(self, rehearsed: Rehearsed, findings: list[Finding]) -> dict:
        observation = rehearsed.observation
        return {
            "migration": rehearsed.step.label,
            "passed": not findings,
            "ms": round(rehearsed.seconds * 1000, 1),
            "error": rehearsed.error,
            "statements": [{"sql": s.sql, "ms": round(s.seconds * 1000, 1), "error": s.error}
                           for s in observation.statements],
            "locks": [{"table": h.table, "mode": h.mode, "held_ms": round(h.seconds * 1000, 1),
                       "blocks_writes": h.blocks_writes, "blocks_reads": h.blocks_reads}
                      for h in sorted(observation.locks, key=lambda h: (h.table, h.first))],
            "lock_modes_visible": observation.lock_modes_visible,
            "lock_waits": [{"lock": w.what, "ms": round(w.seconds * 1000, 1)} for w in observation.waits],
            "requests": _requests_json(rehearsed.overlapping(), failures=rehearsed.failures(SERVING)),
            "findings": [f.to_json(self.handbook) for f in findings],
        }

    def text(self) -> str:
        """The report as the command prints it."""
        lines = [self._heading(), ""]
        for rehearsed, findings in self.rehearsed:
            lines += self._migration_text(rehearsed, findings) + [""]
        failed_next = [r for r in self.next_requests if r.error]
        lines.append(f"Once applied, the code these migrations ship with sent {len(self.next_requests):,} requests: "
                     f"{len(failed_next):,} failed.")
        broken = sum(1 for _, findings in self.rehearsed if findings)
        lines.append(f"Budget broken by {broken} of {len(self.rehearsed)} migrations." if broken else
                     f"Every migration kept within the budget ({len(self.rehearsed)} rehearsed).")
        return "\n".join(lines)

    def _heading(self) -> str:
        db, work, budget = self.database, self.workload, self.budget
        tables = ", ".join(f"{table} {rows:,}" if rows >= 0 else f"{table} (never analyzed)"
                           for table, rows in sorted(self.tables.items())) or "none"
        lines = [
            f"Rehearsal on {db['engine']} {db['version']} (database {db['name']!r}), Django {django.get_version()}.",
            f"Tables the migrations touch, with their estimated rows: {tables}.",
            f"Workload: {work['readers']} reading and {work['writers']} writing clients, each with a request due "
            f"{work['rate']:g} times a second, waits counted from when due; {work['settle']:g} s before and after "
            "the migrations.",
            f"Budget: no lock that blocks writes held over {budget.max_lock * 1000:,.0f} ms; no request waiting over "
            f"{budget.max_wait * 1000:,.0f} ms; no request failing.",
        ]
        for label, why in self.left_out.items():
            lines.append(f"Not rehearsed: {label} (it failed before any migration ran: {why}).")
        return "\n".join(lines)

    def _migration_text(self, rehearsed: Rehearsed, findings: list[Finding]) -> list[str]:
        verdict = "FAIL" if findings else "PASS"
        lines = [f"{verdict}  {rehearsed.step.label}  ({rehearsed.seconds * 1000:,.0f} ms)"]
        lines.append("  statements:")
        for statement in rehearsed.observation.statements or []:
            sql = " ".join(statement.sql.split())
            lines.append(f"    {statement.seconds * 1000:>9,.1f} ms  {sql[:110]}{'…' if len(sql) > 110 else ''}")
            if statement.error:
                lines.append(f"                  failed: {statement.error}")
        if not rehearsed.observation.statements:
            lines.append("    none")
        lines.append("  strongest lock per table:")
        if not rehearsed.observation.lock_modes_visible:
            lines.append("    not visible: install MariaDB's metadata_lock_info plugin to see lock modes")
        for held in rehearsed.strongest():
            blocks = "blocks reads and writes" if held.blocks_reads else "blocks writes" if held.blocks_writes \
                else "blocks neither reads nor writes"
            held_for = "seen in one look only, held briefly" if held.seconds == 0 and not held.until_commit else \
                f"held {held.seconds * 1000:,.0f} ms"
            lines.append(f"    {held.table}: {held.mode}, {held_for}, {blocks}")
        for wait in rehearsed.observation.waits:
            lines.append(f"    waited {wait.seconds * 1000:,.0f} ms for {wait.what}")
        lines.append("  requests while it ran:")
        overlapping = rehearsed.overlapping()
        for name, kinds in (("reads", ("read",)), ("writes", WRITES)):
            requests = [r for r in overlapping if r.kind in kinds]
            worst = max((r.wait for r in requests if not r.error), default=0)
            lines.append(f"    {name:<6} {len(requests):>6,}, worst wait {worst * 1000:,.0f} ms")
        failed = rehearsed.failures(SERVING)
        lines.append(f"    failed {len(failed):>6,} (the code that serves during the deploy)")
        for finding in findings:
            lines.append(f"  {finding.rule}: {finding.message}")
            lines.append(f"    see {finding.page.title}: {finding.page.url(self.handbook)}")
        return lines


def _requests_json(requests: list[Request], failures: list[Request] | None = None) -> dict:
    result = {}
    for name, kinds in (("reads", ("read",)), ("writes", WRITES)):
        chosen = [r for r in requests if r.kind in kinds]
        waits = [r.wait for r in chosen if not r.error]
        result[name] = {"count": len(chosen), "worst_wait_ms": round(max(waits, default=0) * 1000, 1),
                        "failed": sum(1 for r in chosen if r.error)}
    failed = failures if failures is not None else [r for r in requests if r.error]
    result["failed"] = [{"code": r.code, "kind": r.kind, "model": r.model, "error": r.error} for r in failed[:20]]
    result["failed_count"] = len(failed)
    return result

