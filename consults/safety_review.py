"""A patient whose safety assessment says the psychiatric consultant was notified waits for that
consultant: first on the awaiting list and on the next agenda (reason safety), until a signed
case review dated on or after the assessment (docs/user-guide.md#safety-follow-through)."""

from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import TruncDate

from registry.models import SafetyAssessment

NOTIFIED = SafetyAssessment.Action.CONSULTANT_NOTIFIED


def pending_safety_reviews():
    """The safety assessments that told the consultant and have no signed review since."""
    return SafetyAssessment.objects.filter(actions__contains=[NOTIFIED]).filter(
        Q(episode__last_case_review_on__isnull=True) | Q(episode__last_case_review_on__lt=TruncDate("assessed_at"))
    )


def awaits_safety_review() -> Exists:
    """For an Episode queryset: does the episode wait for its consultant's safety review?"""
    return Exists(pending_safety_reviews().filter(episode=OuterRef("pk")))
