"""Psychiatric case review: the weekly agenda and the reviews it leads to.

The consultation-workflow issue extends a review into a signed consultation note with
recommendations; the flags rules only need to know that, and when, a patient was reviewed.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from simple_history.models import HistoricalRecords

from accounts.models import Clinic
from accounts.scoping import in_users_clinics
from patients.models import Episode


class CaseReviewQuerySet(models.QuerySet):
    def visible_to(self, user):
        return in_users_clinics(self, user, "episode__patient__clinic")


class CaseReview(models.Model):
    """A patient discussed at a psychiatric case review (clinical-rules 6: new patient, not improving)."""

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="case_reviews")
    reviewed_on = models.DateField()
    consultant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    summary = models.TextField(help_text="What was discussed and recommended.")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = CaseReviewQuerySet.as_manager()

    class Meta:
        ordering = ["-reviewed_on", "-pk"]
        indexes = [models.Index(fields=["episode", "reviewed_on"], name="case_review_episode_idx")]
        constraints = [models.CheckConstraint(name="case_review_summary_not_blank", condition=~Q(summary=""))]

    def __str__(self) -> str:
        return f"Case review {self.reviewed_on:%Y-%m-%d}"


class AgendaQuerySet(models.QuerySet):
    def visible_to(self, user):
        return in_users_clinics(self, user, "clinic")


class Agenda(models.Model):
    """The weekly caseload review agenda of one care manager with one psychiatric consultant."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="agendas")
    week_of = models.DateField(help_text="The day the agenda was built for (its week's review).")
    care_manager = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    built_at = models.DateTimeField()
    history = HistoricalRecords()

    objects = AgendaQuerySet.as_manager()

    class Meta:
        ordering = ["-week_of", "care_manager__last_name"]
        constraints = [
            # A patient without a consultant still has one agenda a week: NULL counts as a value.
            models.UniqueConstraint(
                "clinic",
                "week_of",
                "care_manager",
                Coalesce("consultant", Value(0)),
                name="agenda_one_per_team_and_week",
            )
        ]

    def __str__(self) -> str:
        return f"Caseload review of {self.week_of:%Y-%m-%d}"


class AgendaItem(models.Model):
    """A patient on an agenda, in the order it will be discussed. Removing keeps the row."""

    agenda = models.ForeignKey(Agenda, on_delete=models.CASCADE, related_name="items")
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()
    reasons = models.JSONField(default=list, help_text="The open flag kinds that put the patient here.")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when the flags put the patient here.",
    )
    note = models.CharField(max_length=300, blank=True, help_text="The care manager's question.")
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "pk"]
        constraints = [models.UniqueConstraint(fields=["agenda", "episode"], name="agenda_item_once_per_agenda")]

    def __str__(self) -> str:
        return f"Agenda item {self.position}"
