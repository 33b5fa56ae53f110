"""What the registry counts of psychiatric case review, provided by the app that holds the reviews
(consults registers it when Django is ready, consults/contributions.py), so the registry's flags,
summaries, safety list, outcomes and dashboard never name that app (docs/architecture.md#layering).
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet

from patients.models import Episode
from registry.models import SafetyAssessment


@dataclass(frozen=True)
class CaseReviews:
    # Signed case reviews (a draft does not count): rows with episode, reviewed_on, signed_at.
    signed: Callable[[], QuerySet]
    # Open recommendations (not implemented, declined or withdrawn): rows with episode,
    # recommended_on and review (whose signed_at says whether its note is signed).
    open_recommendations: Callable[[], QuerySet]
    # The dashboard's case-review figures: a per-episode annotation, the aggregates over it,
    # and the percentages of those counts (docs/clinical-definitions.md#case-review-figures).
    with_figure_columns: Callable[[QuerySet[Episode], datetime.date], QuerySet[Episode]]
    figure_counts: Callable[[datetime.date], dict]
    with_figure_percentages: Callable[[dict], dict]
    # A care manager asked for a review: the patient is put on the next caseload review agenda,
    # which is returned (None when the patient has no care manager, so no agenda).
    put_on_next_agenda: Callable[[Episode, object], object]
    # A safety assessment says the consultant was told: the consultant is told (assessment, by).
    notify_consultant_of_safety: Callable[[SafetyAssessment, object], object]


_provided: list[CaseReviews] = []


def provide(reviews: CaseReviews) -> None:
    _provided[:] = [reviews]


def case_reviews() -> CaseReviews:
    if not _provided:
        raise ImproperlyConfigured("No app provides case reviews (consults registers them when Django is ready).")
    return _provided[0]
