"""A patient whose safety assessment says the psychiatric consultant was notified waits for that
consultant: first on the awaiting list and on the next agenda (reason safety), until a signed
case review dated on or after the assessment (docs/user-guide.md#safety-follow-through)."""

from django.db.models import Exists, OuterRef, Q, TextField
from django.db.models.functions import Cast, TruncDate

from registry.models import SafetyAssessment

NOTIFIED = SafetyAssessment.Action.CONSULTANT_NOTIFIED


def pending_safety_reviews():
    """The safety assessments that told the consultant and have no signed review since."""
    # The JSON list read as its text: one lookup that PostgreSQL and SQLite both run.
    return (
        SafetyAssessment.objects.annotate(actions_text=Cast("actions", TextField()))
        .filter(actions_text__contains=f'"{NOTIFIED}"')
        .filter(
            Q(episode__last_case_review_on__isnull=True) | Q(episode__last_case_review_on__lt=TruncDate("assessed_at"))
        )
    )


def awaits_safety_review() -> Exists:
    """For an Episode queryset: does the episode wait for its consultant's safety review?"""
    return Exists(pending_safety_reviews().filter(episode=OuterRef("pk")))
