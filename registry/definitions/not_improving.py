"""Not improving (docs/clinical-definitions.md#flags): past the clinic's not-improving mark and
[not improved](improvement.py).

The mark is the initial assessment date (the enrollment date when there is none) plus the
clinic's "not improving after" days *(setting, 70)*. What is added to the condition is each
user's own: the `not_improving` flag asks for active treatment and no recent case review
(registry.flags), the case-review figure for active treatment (consults.figures), the
consultation rate for an episode open on the day, with the latest PHQ-9 as it stood then
(registry.outcomes).
"""

import datetime

from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce

from carereg.lib.expressions import AddDays
from patients.models import Episode
from registry.definitions.improvement import is_not_improved, not_improved_q, not_improved_sql
from registry.thresholds import threshold

MARK = "not_improving_from"  # the annotation with_mark() adds


def not_improving_from(
    *, initial_assessment_on: datetime.date | None, enrolled_on: datetime.date, after_days: int
) -> datetime.date:
    """The Python form of the mark."""
    return (initial_assessment_on or enrolled_on) + datetime.timedelta(days=after_days)


def is_not_improving(
    *,
    on: datetime.date,
    initial_assessment_on: datetime.date | None,
    enrolled_on: datetime.date,
    after_days: int,
    baseline: int | None,
    latest: int | None,
) -> bool:
    """The Python form of the condition, on a day."""
    mark = not_improving_from(
        initial_assessment_on=initial_assessment_on, enrolled_on=enrolled_on, after_days=after_days
    )
    return mark <= on and is_not_improved(baseline, latest)


def not_improving_from_expression() -> AddDays:
    """The ORM form of the mark, per episode, with its clinic's setting."""
    return AddDays(Coalesce("initial_assessment_on", "enrolled_on"), threshold("not_improving_after_days"))


def with_mark(episodes: QuerySet[Episode]) -> QuerySet[Episode]:
    """The episodes with the mark annotated, as not_improving_q() needs them."""
    return episodes.annotate(**{MARK: not_improving_from_expression()})


def not_improving_q(on: datetime.date, baseline: str = "phq9_baseline", latest: str = "phq9_latest") -> Q:
    """The ORM form of the condition on a day, over episodes annotated by with_mark()."""
    return Q(**{f"{MARK}__lte": on}) & not_improved_q(baseline, latest)


def not_improving_sql(*, on: str, mark: str, baseline: str, latest: str) -> str:
    """The SQL form of the condition, over column expressions of a raw query (the mark from
    not_improving_from_expression(), compiled by the ORM into the query's scope)."""
    return f"({mark} <= {on} AND {not_improved_sql(baseline, latest)})"
