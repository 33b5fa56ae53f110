"""What the patient page shows of the case reviews (patients/panels.py)."""

from django.http import HttpRequest

from consults.models import Recommendation
from patients.models import Episode


def case_reviews_panel(request: HttpRequest, episode: Episode, context: dict) -> dict:
    """The case reviews, read with their recommendations; the implemented recommendations that no
    plan change records yet, for the writer to record (after the plans panel)."""
    case_reviews = list(episode.case_reviews.select_related("consultant").prefetch_related("recommendations"))
    recorded = {c.recommendation_id for c in context["plan_changes"] if not c.is_entered_in_error}
    implemented = [
        r
        for review in case_reviews
        if review.is_signed
        for r in review.recommendations.all()
        if r.status == Recommendation.Status.IMPLEMENTED and r.pk not in recorded
    ]
    return {
        "case_reviews": case_reviews,
        "recommendations_to_record": sorted(implemented, key=lambda r: (r.implemented_on, r.pk))
        if context["can_write"]
        else [],
    }
