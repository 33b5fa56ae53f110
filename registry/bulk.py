"""Bulk loading with history, for the demo seed and (later) registry imports.

django-simple-history's own bulk helper builds a Python history object per row, which
doubles the work of a large load. Here the rows go in with bulk_create and their "created"
history rows are copied from them by one INSERT ... SELECT per chunk, inside the database.
"""

from collections.abc import Sequence

from django.db import connection, models
from django.utils import timezone

HISTORY_BOOKKEEPING = {"history_id", "history_date", "history_change_reason", "history_type", "history_user_id"}
CHUNK = 5000


def bulk_create_with_history(objects: Sequence[models.Model], *, by) -> list[models.Model]:
    """Insert objects of one model and record each one's creation in its history, as `by`."""
    if not objects:
        return []
    model = type(objects[0])
    created = model.objects.bulk_create(objects, batch_size=CHUNK)
    copy_into_history(model, [obj.pk for obj in created], by=by, change="+")
    return created


def copy_into_history(model: type[models.Model], ids: list[int], *, by, change: str) -> None:
    """Record the current state of these rows in their history: change "+" created, "~" changed;
    by None for the system (a rule, a job)."""
    history = model.history.model
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
