"""The outcome figures as first written: one correlated subquery per episode for each figure
(ORM annotations), slow on a large registry but a plain reading of the definitions
(docs/clinical-definitions.md). Kept to check the set-based queries of registry.outcomes
against, figure by figure, on generated registries (test_outcomes_set_based.py). The clinical
conditions are the ORM forms of registry/definitions, so that check also shows their SQL forms,
which registry.outcomes uses, give the same figures on realistic histories."""

import datetime

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Value

from carereg.lib.expressions import AddDays
from consults.models import CaseReview
from patients.models import Episode
from registry.definitions.depressed import depressed_q
from registry.definitions.improvement import improved_q
from registry.definitions.not_improving import not_improving_q, with_mark
from registry.definitions.remission import remission_q
from registry.definitions.response import response_q
from registry.models import Contact, Measurement
from registry.outcomes import (
    CONSULTATION_WINDOW_DAYS,
    EXCLUDED,
    IMPROVEMENT_AFTER_DAYS,
    OUTCOME_POINTS,
    WINDOW_DAYS,
    Figure,
    Figures,
    Period,
    open_between,
    open_on,
)

GROUP = ("patient__clinic_id", "patient__care_manager_id")


def _add(figures: Figures, measure: str, rows, month=None) -> None:
    for row in rows:
        figures.add(measure, row["patient__clinic_id"], row["patient__care_manager_id"], row["num"], row["den"], month)


def _counts(episodes: QuerySet[Episode], denominator: Q, numerator: Q):
    return (
        episodes.order_by()
        .values(*GROUP)
        .annotate(num=Count("pk", filter=denominator & numerator), den=Count("pk", filter=denominator))
    )


def _phq9s():
    return Measurement.objects.valid().filter(episode=OuterRef("pk"), instrument="PHQ9")


def _outcome_counts(figures: Figures, episodes: QuerySet[Episode], period: Period, today: datetime.date) -> None:
    index = _phq9s().filter(depressed_q("total")).order_by("taken_on", "pk")
    indexed = episodes.exclude(EXCLUDED).annotate(
        index_on=Subquery(index.values("taken_on")[:1]), index_total=Subquery(index.values("total")[:1])
    )
    for point, days in OUTCOME_POINTS.items():
        low, high = days - WINDOW_DAYS, days + WINDOW_DAYS
        in_window = (
            _phq9s()
            .filter(
                taken_on__gte=AddDays(OuterRef("index_on"), Value(low)),
                taken_on__lte=AddDays(OuterRef("index_on"), Value(high)),
            )
            .order_by("-taken_on", "-pk")
        )
        scored = indexed.annotate(outcome=Subquery(in_window.values("total")[:1]))
        # Counted once the window has closed, so that a patient still inside it is not a failure.
        closed_by = min(period.end, today - datetime.timedelta(days=high))
        denominator = Q(index_on__gte=period.start, index_on__lte=closed_by)
        _add(
            figures,
            f"response_{point}",
            _counts(scored, denominator, response_q("index_total", "outcome")),
        )
        _add(figures, f"remission_{point}", _counts(scored, denominator, remission_q("outcome")))


def _monthly_counts(figures: Figures, episodes: QuerySet[Episode], period: Period) -> None:
    contacts = Contact.objects.valid().filter(episode=OuterRef("pk"), reached=True)
    scores = Measurement.objects.valid().filter(episode=OuterRef("pk"))
    for first, last in period.months():
        annotated = episodes.annotate(
            contacted=Exists(contacts.filter(contact_date__range=(first, last))),
            scored=Exists(scores.filter(taken_on__range=(first, last))),
        )
        _add(
            figures,
            "contact_rate",
            _counts(annotated, open_between(first, last), Q(contacted=True, scored=True)),
            month=first.replace(day=1),
        )
    for first, last in period.thirds():
        annotated = episodes.annotate(
            contacted=Exists(contacts.filter(contact_date__range=(first, last))),
            phq9=Exists(_phq9s().filter(taken_on__range=(first, last))),
        )
        _add(figures, "phq9_utilization", _counts(annotated, Q(contacted=True), Q(phq9=True)))


def _as_of(episodes: QuerySet[Episode], day: datetime.date) -> QuerySet[Episode]:
    """Baseline and latest PHQ-9 as they stood on `day`."""
    latest = _phq9s().filter(taken_on__lte=day).order_by("-taken_on", "-pk")
    return episodes.exclude(EXCLUDED).annotate(latest_then=Subquery(latest.values("total")[:1]))


def improvement_counts(episodes: QuerySet[Episode], day: datetime.date):
    denominator = open_on(day) & Q(
        enrolled_on__lte=day - datetime.timedelta(days=IMPROVEMENT_AFTER_DAYS),
        phq9_baseline_on__lte=day,
        latest_then__isnull=False,
    )
    return _counts(_as_of(episodes, day), denominator, improved_q("phq9_baseline", "latest_then"))


def _consultation_counts(episodes: QuerySet[Episode], day: datetime.date):
    reviewed = CaseReview.objects.filter(
        episode=OuterRef("pk"),
        signed_at__isnull=False,
        reviewed_on__range=(day - datetime.timedelta(days=CONSULTATION_WINDOW_DAYS), day),
    )
    annotated = with_mark(_as_of(episodes, day)).annotate(reviewed=Exists(reviewed))
    not_improving = open_on(day) & Q(phq9_baseline_on__lte=day) & not_improving_q(day, "phq9_baseline", "latest_then")
    return _counts(annotated, not_improving, Q(reviewed=True))


def outcome_figures(episodes: QuerySet[Episode], period: Period, today: datetime.date) -> Figures:
    """The eight measures of MEASURES for the episodes in view."""
    figures = Figures()
    _outcome_counts(figures, episodes, period, today)
    _monthly_counts(figures, episodes, period)
    _add(figures, "improvement_rate", improvement_counts(episodes, period.end))
    _add(figures, "consultation_rate", _consultation_counts(episodes, period.end))
    return figures


def improvement_by_month_end(episodes: QuerySet[Episode], period: Period) -> dict:
    """The improvement rate on each month's last day, as the trends chart showed it."""
    by_day = {}
    for _, last in period.months():
        by_day[last] = Figure()
        for row in improvement_counts(episodes, last):
            by_day[last].add(row["num"], row["den"])
    return by_day
