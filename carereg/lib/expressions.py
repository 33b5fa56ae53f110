"""Small SQL building blocks that PostgreSQL and SQLite spell differently."""

from django.db import connection
from django.db.models import DateField, Func, IntegerField


class AddDays(Func):
    """date + whole days, as a date, on both databases."""

    arity = 2
    output_field = DateField()

    def as_sql(self, compiler, connection, **extra_context):
        # PostgreSQL: date + integer is a date.
        return super().as_sql(compiler, connection, template="(%(expressions)s)", arg_joiner=" + ", **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        # SQLite's date modifier takes a signed count: '14 days' or '-28 days'.
        return super().as_sql(
            compiler,
            connection,
            template="date(%(expressions)s || ' days')",
            arg_joiner=", ",
            **extra_context,
        )


class DaysBetween(Func):
    """later - earlier in whole days (both dates)."""

    arity = 2
    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="(%(expressions)s)", arg_joiner=" - ", **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) AS INTEGER)",
            arg_joiner=") - julianday(",
            **extra_context,
        )


def add_days_sql(column: str, days: int) -> str:
    """`column` (a date, in raw SQL) + whole days, spelled as AddDays spells it on each database."""
    if connection.vendor == "sqlite":
        return f"date({column}, '{int(days):+d} days')"
    return f"({column} + {int(days)})"
