"""SQL statements the ORM wrote once, run again as written.

Building and compiling a large annotated query (a dozen subqueries and FILTER clauses) can
cost more CPU than PostgreSQL spends running it. Where a query's text and parameters are fixed
by a few values (who asks, the day), the first run goes through the ORM while its statement is
recorded, and later runs with the same key send that statement straight to the database.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from django.db import connections


@dataclass(frozen=True)
class Statement:
    using: str
    sql: str
    params: tuple
    columns: tuple[str, ...]  # the names of the result's columns, in order


def recording_statement(using: str, run: Callable[[], Any]) -> tuple[Any, Statement | None]:
    """(run(), the one statement it sent to `using`), or None for the statement when it sent
    none or several (such a run cannot be replayed as one statement)."""
    sent: list[Statement] = []

    def record(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        names = tuple(column[0] for column in context["cursor"].description or ())  # DB-API: the name first
        sent.append(Statement(using, sql, tuple(params or ()), names))
        return result

    with connections[using].execute_wrapper(record):
        result = run()
    return result, (sent[0] if len(sent) == 1 else None)


class KeptStatements:
    """Statements recorded by key, the most recently used `size` of them kept per process.

    A key must say everything the statement's text and parameters depend on; what the rows
    say comes from the database each time."""

    def __init__(self, size: int = 256):
        self.size = size
        self._statements: OrderedDict[Hashable, Statement] = OrderedDict()
        self._lock = threading.Lock()

    def first_row(self, key: Hashable, using: str, run: Callable[[], Any]) -> tuple[Any, dict[str, Any] | None]:
        """(run(), None) the first time for this key; then (None, the first row of the kept
        statement, by column name) without calling run()."""
        with self._lock:
            statement = self._statements.get(key)
            if statement is not None:
                self._statements.move_to_end(key)
        if statement is None:
            result, statement = recording_statement(using, run)
            if statement is not None:
                self._keep(key, statement)
            return result, None
        with connections[statement.using].cursor() as cursor:
            cursor.execute(statement.sql, statement.params)
            return None, dict(zip(statement.columns, cursor.fetchone(), strict=True))

    def _keep(self, key: Hashable, statement: Statement) -> None:
        with self._lock:
            self._statements[key] = statement
            while len(self._statements) > self.size:
                self._statements.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._statements.clear()
