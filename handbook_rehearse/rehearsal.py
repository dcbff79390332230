"""Run the migrations one by one while the code that serves keeps sending requests; watch each one."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

from django.db.migrations.executor import MigrationExecutor
from django.db.models import UniqueConstraint

from . import verdict, watch, workload
from .plan import Step
from .report import Report


@dataclass(frozen=True)
class Traffic:
    """How hard the rehearsal's clients push: how many, how often, and for how long around the migrations."""

    clients: int = 8
    rate: float = 25.0  # requests per second per client
    settle: float = 1.0  # seconds of traffic before the first migration and after the last

    @property
    def period(self) -> float:
        return 1 / self.rate


def models_of(apps, steps: list[Step]) -> list:
    """The managed, concrete models of ``apps`` that ``steps`` touch: by the tables their SQL names, by the models
    their operations name (state-only changes too), and every model of an app whose migration runs Python."""
    tables = {table for step in steps for table in step.tables}
    named = {model for step in steps for model in step.models}
    python_apps = {step.migration.app_label for step in steps if step.runs_python}
    return [model for model in apps.get_models()
            if model._meta.managed and not model._meta.proxy and not model._meta.swapped
            and (model._meta.db_table in tables or (model._meta.app_label, model._meta.model_name) in named
                 or model._meta.app_label in python_apps)]


def unique_later(executor: MigrationExecutor) -> dict[str, set[str]]:
    """Per model label, the fields that must be unique once every migration is applied: the rows the serving
    code inserts get fresh values there, as the code would give them, so that a unique constraint the
    migrations add does not fail on the rehearsal's own copies."""
    unique: dict[str, set[str]] = {}
    for model in executor.loader.project_state().apps.get_models():
        meta = model._meta
        names = {f.name for f in meta.concrete_fields if f.unique and not f.primary_key}
        names.update(name for fields in meta.unique_together for name in fields)
        names.update(name for c in meta.constraints if isinstance(c, UniqueConstraint) for name in c.fields)
        unique[meta.label] = names
    return unique


def rehearse(executor: MigrationExecutor, steps: list[Step], traffic: Traffic, budget: verdict.Budget,
             report: Report, progress: Callable[[str], None]) -> Report:
    """Apply ``steps`` in order under traffic, recording each into ``report``; stop at the first that fails."""
    connection = executor.connection
    alias = connection.alias
    state = executor._create_project_state(with_applied_migrations=True)
    serving_apps = state.clone().apps
    rows = workload.Rows(alias, unique_later(executor))
    operations, report.left_out = workload.usable(workload.operations_for(models_of(serving_apps, steps)), rows)
    serving = workload.Workload(alias, workload.SERVING, operations, rows, traffic.clients, traffic.period)
    report.workload.update(_describe(serving, traffic))
    serving.start()
    rehearsed: list[verdict.Rehearsed] = []
    try:
        time.sleep(traffic.settle)
        session = watch.session_id(connection)
        for number, step in enumerate(steps, 1):
            observation = watch.Observation()
            error = ""
            heading = f"Rehearsing {number} of {len(steps)}: {step.label}"
            with watch.LockWatcher(alias, connection.vendor, session, observation) as watcher, \
                    connection.execute_wrapper(watch.Statements(connection, observation, step.migration.atomic)), \
                    _ticking(heading, progress, serving):
                if "apps" not in state.__dict__:
                    state.apps  # render the models once, as migrate does, and before the clock starts
                started = time.perf_counter()
                try:
                    state = executor.apply_migration(state, step.migration)
                except Exception as exception:  # the report says what failed; later migrations are not run
                    error = f"{type(exception).__name__}: {str(exception).strip()}"
                ended = time.perf_counter()
                observation.committed(ended)
            if watcher.error:
                raise watcher.error
            in_transaction = step.migration.atomic and connection.features.can_rollback_ddl
            rehearsed.append(verdict.Rehearsed(step, observation, started, ended, error, in_transaction=in_transaction))
            if error:
                break
            time.sleep(min(traffic.settle, 0.3))  # let the requests it held up finish before the next one
        next_requests: list[workload.Request] = []
        if not any(r.error for r in rehearsed):
            # Not probed like the serving code's: here a request that fails is a finding, not a workload artefact.
            next_models = models_of(state.apps, steps)
            next_rows = workload.Rows(alias)
            next_rows.preload(next_models)
            coming = workload.Workload(alias, workload.NEXT, workload.operations_for(next_models), next_rows,
                                       traffic.clients, traffic.period)
            coming.start()
            time.sleep(traffic.settle)
            next_requests = coming.stop()
        else:
            time.sleep(traffic.settle)
    finally:
        requests = serving.stop()
    _attribute(rehearsed, requests)
    report.next_requests = next_requests
    report.rehearsed = [(r, verdict.judge(r, budget)) for r in rehearsed]
    if next_requests and any(r.error for r in next_requests) and report.rehearsed:
        last, findings = report.rehearsed[-1]
        last.requests.extend(r for r in next_requests if r.error)
        report.rehearsed[-1] = (last, verdict.judge(last, budget))
    return report


@contextmanager
def _ticking(heading: str, progress: Callable[[str], None], serving: workload.Workload):
    """Say what runs, then how long it has run and how many requests were sent meanwhile, every half second."""
    started, stop = time.perf_counter(), threading.Event()
    sent = len(serving.requests)

    def tick() -> None:
        progress(heading)
        while not stop.wait(0.5):
            progress(f"{heading}: {time.perf_counter() - started:.1f} s, "
                     f"{len(serving.requests) - sent:,} requests meanwhile")

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _attribute(rehearsed: list[verdict.Rehearsed], requests: list[workload.Request]) -> None:
    """Give each migration the requests due from its start to the next one's (the last keeps the rest)."""
    for position, current in enumerate(rehearsed):
        until = rehearsed[position + 1].started if position + 1 < len(rehearsed) else float("inf")
        current.requests = [r for r in requests if r.ended >= current.started and r.due < until]


def _describe(serving: workload.Workload, traffic: Traffic) -> dict:
    readers = sum(1 for ops in serving.clients if ops[0].kind == "read")
    return {"readers": readers, "writers": len(serving.clients) - readers, "rate": traffic.rate,
            "settle": traffic.settle,
            "operations": sorted({o.label for ops in serving.clients for o in ops})}


def table_rows(connection, tables: set[str]) -> dict[str, int]:
    """The planner's estimate of each table's rows (those that exist), read without scanning the tables:
    ``pg_class.reltuples`` on PostgreSQL (-1: never analyzed), ``TABLE_ROWS`` on MariaDB."""
    existing = sorted(tables & set(connection.introspection.table_names()))
    counts = {}
    with connection.cursor() as cursor:
        for table in existing:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                               [connection.ops.quote_name(table)])
            else:
                cursor.execute("SELECT TABLE_ROWS FROM information_schema.TABLES "
                               "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s", [table])
            counts[table] = int(cursor.fetchone()[0] or 0)
    return counts


def analyze(connection, tables: list[str]) -> None:
    """Refresh the statistics of tables just filled, as production's autovacuum would have."""
    with connection.cursor() as cursor:
        for table in tables:
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"ANALYZE {quoted}" if connection.vendor == "postgresql" else f"ANALYZE TABLE {quoted}")
            if connection.vendor != "postgresql":
                cursor.fetchall()
