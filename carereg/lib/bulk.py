"""Bulk loading with history, for the demo seed, benchmarks and set-based jobs.

django-simple-history's own bulk helper builds a Python history object per row, which
doubles the work of a large load. Here the rows go in at once (PostgreSQL's COPY, or
bulk_create elsewhere) and their history rows are copied from them by one INSERT ... SELECT
per chunk, inside the database.
"""

import json
from collections.abc import Sequence
from typing import TypeVar

from django.db import connection, models
from django.utils import timezone

HISTORY_BOOKKEEPING = {"history_id", "history_date", "history_change_reason", "history_type", "history_user_id"}
CHUNK = 5000

M = TypeVar("M", bound=models.Model)


def bulk_create_with_history(objects: Sequence[M], *, by) -> list[M]:
    """Insert objects of one model and record each one's creation in its history, as `by`."""
    if not objects:
        return []
    model = type(objects[0])
    if connection.vendor == "postgresql":
        created = _copy_in(model, objects)
    else:
        created = model._default_manager.bulk_create(objects, batch_size=CHUNK)
    copy_into_history(model, [obj.pk for obj in created], by=by, change="+")
    return created


def _copy_in(model: type[M], objects: Sequence[M]) -> list[M]:
    """COPY the rows in, ids taken from the table's sequence first so that callers can link
    children to them. About twenty times faster than INSERTs for a large load."""
    table, pk = model._meta.db_table, model._meta.pk
    fields = model._meta.concrete_fields
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, pk.column, len(objects)],
        )
        for obj, (new_id,) in zip(objects, cursor.fetchall(), strict=True):
            obj.pk = new_id
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        json_fields = {f.attname for f in fields if isinstance(f, models.JSONField)}
        with cursor.cursor.copy(f"COPY {connection.ops.quote_name(table)} ({columns}) FROM STDIN") as copy:
            for obj in objects:
                # pre_save: what save() would store (auto_now_add timestamps included).
                values = [f.pre_save(obj, True) for f in fields]
                copy.write_row(
                    [json.dumps(v) if f.attname in json_fields else v for f, v in zip(fields, values, strict=True)]
                )
    for obj in objects:
        obj._state.adding, obj._state.db = False, connection.alias
    return list(objects)


def copy_into_history(model: type[models.Model], ids: list[int], *, by, change: str) -> None:
    """Record the current state of these rows in their history: change "+" created, "~" changed;
    by None for the system (a rule, a job)."""
    if not ids:
        return  # most refreshes of one episode raise or resolve nothing
    # django-simple-history adds the `history` manager to each model it tracks, which
    # django-stubs cannot know of.
    history = model.history.model  # type: ignore[attr-defined]
    columns = [f.column for f in history._meta.concrete_fields if f.attname not in HISTORY_BOOKKEEPING]
    quote = connection.ops.quote_name
    column_list = ", ".join(quote(c) for c in columns)
    now = connection.ops.adapt_datetimefield_value(timezone.now())  # as the ORM stores it
    with connection.cursor() as cursor:
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            placeholders = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {quote(history._meta.db_table)} "
                f"({column_list}, history_date, history_type, history_user_id, history_change_reason) "
                f"SELECT {column_list}, %s, %s, %s, NULL FROM {quote(model._meta.db_table)} "
                f"WHERE {quote(model._meta.pk.column)} IN ({placeholders})",
                [now, change, by.pk if by else None, *chunk],
            )
