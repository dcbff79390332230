"""Fill tables to stated row counts, when no copy of production is at hand.

Rows are made from the models as the applied migrations leave them (the schema the migrations will meet), in
chunks of ``bulk_create``. Each field gets a value of its type: numbers and text that vary by row, unique where
the field must be, a random existing row for a foreign key (fill the table it points to first), the field's
default where it has one. Real data is better: see the handbook's page on rehearsing.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.management.base import CommandError
from django.db import models
from django.utils import timezone

CHUNK = 5_000


def parse(specs: list[str], apps) -> list[tuple[type[models.Model], int]]:
    """``app_label.Model=ROWS`` specs as (historical model, rows), in the order given.

    Raises CommandError (exit status 2)."""
    parsed = []
    for spec in specs:
        label, equals, rows = spec.partition("=")
        if not equals or not rows.strip().replace("_", "").isdigit():
            raise CommandError(f"--rows {spec!r}: expected APP_LABEL.MODEL=ROWS, for example shop.Order=1000000.",
                               returncode=2)
        try:
            model = apps.get_model(label.strip())
        except (LookupError, ValueError):
            raise CommandError(f"--rows {spec!r}: no model {label.strip()!r} in the applied migrations' state "
                               "(give it as app_label.ModelName).", returncode=2) from None
        parsed.append((model, int(rows.strip().replace("_", ""))))
    return parsed


def fill(model: type[models.Model], rows: int, alias: str, progress: Callable[[int], None]) -> None:
    """Add ``rows`` rows to ``model``'s table; ``progress(done)`` after each chunk.

    Raises CommandError (exit status 2)."""
    fields = [f for f in model._meta.concrete_fields
              if not isinstance(f, (models.AutoField, models.BigAutoField, models.SmallAutoField))]
    manager = model._default_manager.db_manager(alias)
    start = manager.count()
    targets = {f.name: _targets(f, alias) for f in fields if f.is_relation}
    done = 0
    while done < rows:
        size = min(CHUNK, rows - done)
        batch = [model(**{f.attname: _value(f, start + done + i, targets.get(f.name)) for f in fields})
                 for i in range(size)]
        manager.bulk_create(batch)
        done += size
        progress(done)


def _targets(field, alias: str) -> list:
    related = field.related_model._default_manager.db_manager(alias)
    keys = list(related.order_by().values_list("pk", flat=True)[:10_000])
    if not keys and not field.null:
        raise CommandError(f"--rows: {field.model._meta.label}.{field.name} points to "
                           f"{field.related_model._meta.label}, which has no rows: fill it first.",
                           returncode=2)
    return keys


def _value(field, i: int, targets: list | None):
    if targets is not None:
        return targets[i % len(targets)] if targets else None
    if field.has_default():
        return field.get_default()
    if field.null and not field.unique:
        return None
    if field.choices:
        return list(field.flatchoices)[i % len(field.flatchoices)][0]
    if isinstance(field, models.BooleanField):
        return i % 2 == 0
    if isinstance(field, (models.SmallIntegerField, models.PositiveSmallIntegerField)):
        return i % 32_000
    if isinstance(field, models.IntegerField):
        return i
    if isinstance(field, (models.FloatField,)):
        return i / 7
    if isinstance(field, models.DecimalField):
        return decimal.Decimal(i % 10 ** (field.max_digits - field.decimal_places))
    if isinstance(field, models.UUIDField):
        return uuid.UUID(int=i + 1)
    if isinstance(field, models.EmailField):
        return f"person{i}@example.com"
    if isinstance(field, (models.CharField, models.TextField)):
        text = f"{field.name}-{i}"
        return text[-field.max_length:] if field.max_length else text
    if isinstance(field, models.DateTimeField):
        moment = datetime.datetime(2020, 1, 1) + datetime.timedelta(seconds=i)
        return timezone.make_aware(moment, datetime.timezone.utc) if settings.USE_TZ else moment
    if isinstance(field, models.DateField):
        return datetime.date(2020, 1, 1) + datetime.timedelta(days=i % 3650)
    if isinstance(field, models.DurationField):
        return datetime.timedelta(seconds=i)
    if isinstance(field, models.JSONField):
        return {"n": i}
    if isinstance(field, models.BinaryField):
        return i.to_bytes(8, "big")
    raise CommandError(f"--rows: no way to make values for {field.model._meta.label}.{field.name} "
                       f"({type(field).__name__}); give it a default, or rehearse on a restored backup instead.",
                       returncode=2)
