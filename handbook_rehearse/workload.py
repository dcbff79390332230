"""Requests like the site's, sent while a migration runs, by the code that serves and by the code that comes next.

The code that serves during a deploy is the release before these migrations: its models are the migration
state before them, so the workload uses those historical models, not the project's current ones. Each request
does what an ordinary view does through the ORM: a read fetches one row by primary key; an update fetches one
and saves it (every column the code knows); an insert saves a copy of one of the newest rows read before the
migrations (the rows the code writes are like those it wrote last: where it left a column NULL, it still will).

Clients are threads, each with its own connection. Arrivals are open-loop: each client's requests are due at
a fixed period, and a request's wait is measured from when it was due, so a client stuck behind a lock reports
every request it should have sent meanwhile.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import dataclass

from django.db import connections, models, transaction

KINDS = ("read", "update", "insert")
SERVING = "serving"  # the release that serves while the migrations run
NEXT = "next"  # the release the migrations ship with, once they are applied


@dataclass(frozen=True)
class Request:
    """One request: which code sent it, what it did, to which model, when it was due and ended, its error."""

    code: str
    kind: str
    model: str
    due: float  # time.perf_counter() seconds
    ended: float
    error: str = ""

    @property
    def wait(self) -> float:
        """Seconds from when the request was due to when it ended."""
        return self.ended - self.due


@dataclass(frozen=True)
class Operation:
    """One kind of request on one model."""

    kind: str
    model: type[models.Model]

    @property
    def label(self) -> str:
        return f"{self.kind} {self.model._meta.label}"


class Workload:
    """Clients sending ``operations`` round-robin until stopped: half read, half write (updates and inserts)."""

    def __init__(self, alias: str, code: str, operations: list[Operation], rows: Rows, clients: int,
                 period: float):
        self.alias, self.code, self.period, self.rows = alias, code, period, rows
        reads = [o for o in operations if o.kind == "read"]
        writes = [o for o in operations if o.kind != "read"]
        self.clients = [ops for ops in (reads, writes) if ops for _ in range(max(1, clients // 2))]
        self.requests: list[Request] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for number, operations in enumerate(self.clients):
            thread = threading.Thread(target=self._client, args=(number, operations), daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> list[Request]:
        """Stop sending, wait for the requests under way, and return every request sent."""
        self._stop.set()
        for thread in self._threads:
            thread.join()
        return self.requests

    def _client(self, number: int, operations: list[Operation]) -> None:
        rng = random.Random()  # unseeded: two workloads' clients must not make the same 'unique' values
        # Clients start spread over one period, not all at once.
        due = time.perf_counter() + self.period * number / max(1, len(self.clients))
        position = number
        try:
            while not self._stop.is_set():
                pause = due - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                operation = operations[position % len(operations)]
                position += 1
                error = run(operation, self.alias, self.rows, rng)
                self.requests.append(Request(self.code, operation.kind, operation.model._meta.label, due,
                                             time.perf_counter(), error))
                due += self.period
        finally:
            connections[self.alias].close()


def operations_for(model_classes: list[type[models.Model]]) -> list[Operation]:
    """Reads, updates and inserts of each model; inserts come once for every two updates."""
    return [Operation(kind, model) for model in model_classes for kind in ("read", "update", "insert", "update")]


def usable(operations: list[Operation], rows: Rows) -> tuple[list[Operation], dict[str, str]]:
    """The operations that succeed once now, and why each other one was left out.

    Run before the migrations, an operation that fails says something about the workload (a constraint a copied
    row breaks), not about the migration, so it is not rehearsed; nor are writes to an empty table."""
    rng, left_out = random.Random(), {}
    for operation in dict.fromkeys(operations):
        if operation.kind != "read" and rows.empty(operation.model):
            left_out[operation.label] = "the table is empty"
            continue
        error = run(operation, rows.alias, rows, rng)
        if error:
            left_out[operation.label] = error
    return [o for o in operations if o.label not in left_out], left_out


def run(operation: Operation, alias: str, rows: Rows, rng: random.Random) -> str:
    """Do one request; return its error in one line, or ''."""
    manager = operation.model._default_manager.db_manager(alias)
    try:
        with transaction.atomic(using=alias):
            if operation.kind == "insert":
                template = rows.template(operation.model, rng)
                if template is not None:
                    _as_new_row(template, rng, rows.unique_later.get(operation.model._meta.label, set())).save(
                        using=alias)
                return ""
            row = rows.fetch(manager, operation.model, rng)
            if operation.kind == "update" and row is not None:
                row.save(using=alias)
        return ""
    except Exception as error:  # any failure of a request is what the rehearsal reports
        lines = str(error).strip().splitlines()
        return f"{type(error).__name__}: {lines[0] if lines else ''}".rstrip(": ")


class Rows:
    """What the requests work on, read once per model before they start: the range of primary keys to ask for
    (a sample of keys when they are not integers), and the newest rows, which new rows copy: the rows the
    code writes are like the rows it wrote last."""

    TEMPLATES = 20

    def __init__(self, alias: str, unique_later: dict[str, set[str]] | None = None):
        self.alias = alias
        self.unique_later = unique_later or {}
        self._keys: dict[str, object] = {}
        self._templates: dict[str, list] = {}
        self._lock = threading.Lock()

    def pick(self, model, rng: random.Random):
        keys = self._load(model)[0]
        if not keys:
            return None
        if isinstance(keys, range):
            return rng.randint(keys.start, keys.stop)
        return rng.choice(keys)

    def fetch(self, manager, model, rng: random.Random):
        """A row picked at random: the first at or after a random key of an integer range (gaps skipped, so a
        write always has a row to write), else a random key of the sample."""
        key = self.pick(model, rng)
        if key is None:
            return None
        if isinstance(self._load(model)[0], range):
            return manager.filter(pk__gte=key).order_by("pk").first() or manager.order_by("pk").first()
        return manager.filter(pk=key).first()

    def template(self, model, rng: random.Random):
        templates = self._load(model)[1]
        if not templates:
            return None
        chosen = rng.choice(templates)
        return model(**{f.attname: getattr(chosen, f.attname) for f in model._meta.concrete_fields})

    def empty(self, model) -> bool:
        return not self._load(model)[0]

    def preload(self, model_classes) -> None:
        for model in model_classes:
            self._load(model)

    def _load(self, model):
        label = model._meta.label
        with self._lock:
            if label not in self._keys:
                manager = model._default_manager.db_manager(self.alias)
                if isinstance(model._meta.pk, (models.AutoField, models.BigAutoField, models.IntegerField)):
                    bounds = manager.aggregate(low=models.Min("pk"), high=models.Max("pk"))
                    self._keys[label] = range(bounds["low"], bounds["high"]) if bounds["low"] is not None else ()
                else:
                    self._keys[label] = tuple(manager.order_by().values_list("pk", flat=True)[:1000])
                self._templates[label] = list(manager.order_by("-pk")[:self.TEMPLATES])
            return self._keys[label], self._templates[label]


def _as_new_row(row, rng: random.Random, unique_later: set[str]):
    """A copy of a fetched row as a new one: no primary key, fresh values where a value must be unique, now or
    once the migrations are applied."""
    meta = row._meta
    known = {f.name for f in meta.concrete_fields}
    unique = {f.name for f in meta.concrete_fields if f.unique and not f.primary_key} | (unique_later & known)
    for fields in meta.unique_together:
        unique.update(fields)
    for constraint in meta.constraints:
        unique.update(getattr(constraint, "fields", ()) if isinstance(constraint, models.UniqueConstraint) else ())
    row.pk = None
    for name in unique:
        field = meta.get_field(name)
        value = _fresh(field, rng)
        if value is not None:
            setattr(row, field.attname, value)
    return row


def _fresh(field, rng: random.Random):
    if isinstance(field, models.UUIDField):
        return uuid.UUID(int=rng.getrandbits(128))
    if isinstance(field, (models.CharField, models.TextField)):
        token = f"rehearsal-{rng.getrandbits(64):016x}"
        return token[-field.max_length:] if field.max_length else token
    if isinstance(field, models.IntegerField) and not isinstance(field, models.SmallIntegerField):
        return rng.randint(1_000_000_000, 2_000_000_000)
    return None
