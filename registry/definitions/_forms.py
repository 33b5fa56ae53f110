"""What the definitions' ORM and SQL forms share: integer-exact fractions."""

from fractions import Fraction

from django.db.models import F
from django.db.models.expressions import CombinedExpression


def times(field: str, factor: int) -> F | CombinedExpression:
    """An ORM column times a whole number (the column itself for 1)."""
    return F(field) if factor == 1 else F(field) * factor


def times_sql(column: str, factor: int) -> str:
    return column if factor == 1 else f"{column} * {factor}"


def at_most_fraction(fraction: Fraction, part: int, whole: int) -> bool:
    """part <= fraction * whole, in integers: part * denominator <= whole * numerator."""
    return part * fraction.denominator <= whole * fraction.numerator
