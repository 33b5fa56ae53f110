"""Response (docs/clinical-definitions.md#baseline-latest-and-change): the latest score at most
half the baseline (a change of 50% or more), compared integer-exact (2 x latest <= baseline),
never as a rounded percent. A baseline of 0, or a missing score, is no response.

Used by the caseload statistics (registry.caseload), the response measures of the outcomes
report (registry.outcomes, against the index score) and, through improvement, by the
not-improving rule.
"""

from fractions import Fraction

from django.db.models import Q
from django.db.models.lookups import LessThanOrEqual

from registry.definitions._forms import at_most_fraction, times, times_sql

RESPONSE_FRACTION = Fraction(1, 2)  # the latest at most this fraction of the baseline


def is_response(baseline: int | None, latest: int | None) -> bool:
    """The Python form."""
    if not baseline or latest is None:  # a baseline of 0 or none: nothing to respond from
        return False
    return at_most_fraction(RESPONSE_FRACTION, latest, baseline)


def response_q(baseline: str = "phq9_baseline", latest: str = "phq9_latest") -> Q:
    """The ORM form, over two integer columns (by default the episode's PHQ-9 summary)."""
    return Q(**{f"{baseline}__gt": 0}) & Q(
        LessThanOrEqual(times(latest, RESPONSE_FRACTION.denominator), times(baseline, RESPONSE_FRACTION.numerator))
    )


def response_sql(baseline: str, latest: str) -> str:
    """The SQL form, over two column expressions of a raw query (false or NULL when either is NULL)."""
    return (
        f"({baseline} > 0 AND {times_sql(latest, RESPONSE_FRACTION.denominator)} "
        f"<= {times_sql(baseline, RESPONSE_FRACTION.numerator)})"
    )
