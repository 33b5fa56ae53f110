"""Month-by-month program figures for the outcomes report's charts and its monthly CSV."""

import datetime
import statistics

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth

from carereg.lib.expressions import DaysBetween
from patients.models import Episode
from registry.definitions.change import percent_change_expression
from registry.outcomes import Figure, Period, improvement_counts, open_between, open_on

# Buckets of the PHQ-9 change from baseline, worst first
# (docs/clinical-definitions.md#baseline-latest-and-change: positive = better).
CHANGE_BUCKETS = [
    ("worse", Q(change__lt=0)),
    ("0-24%", Q(change__gte=0, change__lt=25)),
    ("25-49%", Q(change__gte=25, change__lt=50)),
    ("50-74%", Q(change__gte=50, change__lt=75)),
    ("75-100%", Q(change__gte=75)),
]


def monthly_trends(episodes: QuerySet[Episode], period: Period, improvement: list[tuple] | None = None) -> list[dict]:
    """Per month: enrollments, active caseload on its last day, improvement rate on its last day.
    `improvement`: the rows of improvement_counts for period.month_ends(), when the caller has them."""
    months = [first.replace(day=1) for first, _ in period.months()]
    ends = period.month_ends()
    enrolled = dict(
        episodes.filter(enrolled_on__range=(period.start, period.end))
        .order_by()
        .annotate(month=TruncMonth("enrolled_on"))
        .values_list("month")
        .annotate(n=Count("pk"))
    )
    enrolled = {_as_date(month): n for month, n in enrolled.items()}
    active = episodes.order_by().aggregate(**{f"m{i}": Count("pk", filter=open_on(end)) for i, end in enumerate(ends)})
    by_day = {end: Figure() for end in ends}
    if improvement is None:
        improvement = improvement_counts(episodes, ends)
    for day, _clinic, _care_manager, num, den in improvement:
        by_day[day].add(num, den)
    return [
        {"month": month, "enrolled": enrolled.get(month, 0), "active": active[f"m{i}"], "improvement": by_day[end]}
        for i, (month, end) in enumerate(zip(months, ends, strict=True))
    ]


def _as_date(value) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


def discharges(episodes: QuerySet[Episode], period: Period) -> dict:
    """Discharges in the period by reason, and the weeks from enrollment to discharge."""
    discharged = episodes.filter(discharged_on__range=(period.start, period.end)).order_by()
    by_reason = dict(discharged.values_list("discharge_reason").annotate(n=Count("pk")))
    days = discharged.annotate(days=DaysBetween("discharged_on", "enrolled_on")).values_list("days", flat=True)
    weeks = [value // 7 for value in days]
    return {
        "reasons": [(label, by_reason.get(code, 0)) for code, label in Episode.DischargeReason.choices],
        "count": len(weeks),
        "median_weeks": statistics.median(weeks) if weeks else None,
        "mean_weeks": round(statistics.mean(weeks), 1) if weeks else None,
    }


def change_distribution(episodes: QuerySet[Episode], period: Period) -> list[tuple[str, int]]:
    """How far the PHQ-9 moved from baseline, for the episodes open in the period with two scores."""
    scored = (
        episodes.filter(
            open_between(period.start, period.end),
            phq9_baseline__gt=0,
            phq9_latest__isnull=False,
        )
        .order_by()
        .annotate(change=percent_change_expression("phq9"))
    )
    # Aliases are plain names: a label's "%" would reach the SQL text.
    counts = scored.aggregate(
        **{f"b{i}": Count("pk", filter=condition) for i, (_, condition) in enumerate(CHANGE_BUCKETS)}
    )
    return [(label, counts[f"b{i}"]) for i, (label, _) in enumerate(CHANGE_BUCKETS)]
