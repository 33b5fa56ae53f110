"""Program figures of the psychiatric case review
(docs/clinical-definitions.md#case-review-figures), defined in DEFINITIONS."""

import datetime

from django.db.models import Count, F, Q, QuerySet, Value

from carereg.lib.expressions import AddDays
from consults.models import Recommendation
from patients.models import Episode
from registry.caseload import whole_percent
from registry.definitions.not_improving import not_improving_q, with_mark

NEW_PATIENT_WINDOW_DAYS = 28
NOT_IMPROVING_WINDOW_DAYS = 60
CONSULTATION_TARGET = 80

# Shown beside the figures, word for word.
DEFINITIONS = [
    "New patients reviewed within 4 weeks: of the open episodes enrolled at least 28 days ago, those with a "
    "signed case review dated within 28 days of enrollment.",
    "Not-improving patients reviewed in the last 60 days (target 80%): of the episodes in active treatment that "
    "are not improving by the clinical definition (the clinic's not-improving days since the initial assessment, "
    "latest PHQ-9 of 10 or more and less than 50% below baseline), whatever their reviews, those with a signed "
    "case review in the last 60 days.",
    "Recommendations by status: the recommendations of signed notes about the episodes in view.",
]


def with_review_columns(episodes: QuerySet[Episode], today: datetime.date) -> QuerySet[Episode]:
    """The per-episode fact the review figures count beyond the summary columns (review_counts)."""
    return with_mark(episodes)


def review_counts(today: datetime.date) -> dict:
    """Aggregates over with_review_columns(): the numerators and denominators of the first two figures."""
    old_enough = Q(enrolled_on__lte=today - datetime.timedelta(days=NEW_PATIENT_WINDOW_DAYS))
    not_improving = Q(status=Episode.Status.ACTIVE) & not_improving_q(today)
    # From the episode summary: the first and the latest signed review (registry.summaries).
    reviewed_in_time = Q(first_case_review_on__lte=AddDays(F("enrolled_on"), Value(NEW_PATIENT_WINDOW_DAYS)))
    reviewed_lately = Q(last_case_review_on__gte=today - datetime.timedelta(days=NOT_IMPROVING_WINDOW_DAYS))
    return {
        "new_due": Count("pk", filter=old_enough),
        "new_reviewed": Count("pk", filter=old_enough & reviewed_in_time),
        "not_improving": Count("pk", filter=not_improving),
        "not_improving_reviewed": Count("pk", filter=not_improving & reviewed_lately),
    }


def with_review_percentages(counts: dict) -> dict:
    return {
        **counts,
        "new_reviewed_pct": whole_percent(counts["new_reviewed"], counts["new_due"]),
        "not_improving_reviewed_pct": whole_percent(counts["not_improving_reviewed"], counts["not_improving"]),
        "target": CONSULTATION_TARGET,
    }


def review_figures(episodes: QuerySet[Episode], today: datetime.date) -> dict:
    counts = with_review_columns(episodes.order_by(), today).aggregate(**review_counts(today))
    by_status = dict(
        Recommendation.objects.filter(episode__in=episodes.order_by().values("pk"), review__signed_at__isnull=False)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    return {
        **with_review_percentages(counts),
        "recommendations": [
            (status, label, by_status.get(status, 0)) for status, label in Recommendation.Status.choices
        ],
        "open_recommendations": sum(by_status.get(status, 0) for status in Recommendation.OPEN),
    }
