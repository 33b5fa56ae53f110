"""Improved and not improved (docs/clinical-definitions.md#baseline-latest-and-change).

Improved (clinically significant improvement): the latest PHQ-9 below 10, or a
[response](response.py) (at most half the baseline). Not improved is its opposite among
episodes with both scores: the latest 10 or more and more than half the baseline
(integer-exact: 2 x latest > baseline). An episode without a latest score is neither.

Used by the improvement rate of the outcomes report and the demo (improved), and by the
not-improving rule (registry.definitions.not_improving).
"""

from django.db.models import Q
from django.db.models.lookups import GreaterThan

from registry.definitions._forms import times, times_sql
from registry.definitions.response import RESPONSE_FRACTION, is_response, response_q, response_sql

IMPROVED_BELOW = 10


def is_improved(baseline: int | None, latest: int | None) -> bool:
    """The Python form of improved."""
    return latest is not None and (latest < IMPROVED_BELOW or is_response(baseline, latest))


def is_not_improved(baseline: int | None, latest: int | None) -> bool:
    """The Python form of not improved: both scores known and not improved."""
    return baseline is not None and latest is not None and not is_improved(baseline, latest)


def improved_q(baseline: str = "phq9_baseline", latest: str = "phq9_latest") -> Q:
    """The ORM form of improved, over two integer columns (by default the PHQ-9 summary)."""
    return Q(**{f"{latest}__lt": IMPROVED_BELOW}) | response_q(baseline, latest)


def not_improved_q(baseline: str = "phq9_baseline", latest: str = "phq9_latest") -> Q:
    """The ORM form of not improved, written as what holds (not as a negation, which NULLs
    would make differ between databases and the Python form)."""
    return Q(**{f"{latest}__gte": IMPROVED_BELOW}) & Q(
        GreaterThan(times(latest, RESPONSE_FRACTION.denominator), times(baseline, RESPONSE_FRACTION.numerator))
    )


def improved_sql(baseline: str, latest: str) -> str:
    """The SQL form of improved, over two column expressions of a raw query."""
    return f"({latest} < {IMPROVED_BELOW} OR {response_sql(baseline, latest)})"


def not_improved_sql(baseline: str, latest: str) -> str:
    """The SQL form of not improved."""
    return (
        f"({latest} >= {IMPROVED_BELOW} AND {times_sql(latest, RESPONSE_FRACTION.denominator)} "
        f"> {times_sql(baseline, RESPONSE_FRACTION.numerator)})"
    )
