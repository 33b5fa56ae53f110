"""Psychiatric case review: the weekly sessions (agendas), the consultation notes written at
them, and the recommendations those notes make until the PCP has acted on them.

A note (CaseReview) is a draft until the consultant signs it; only signed notes count as a
case review for the flag rules. A signed note is never edited, only amended.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from simple_history.models import HistoricalRecords

from accounts.models import Clinic
from accounts.scoping import in_users_clinics
from patients.diagnoses import COMMON_DIAGNOSES
from patients.models import Episode


class CaseReviewQuerySet(models.QuerySet):
    def visible_to(self, user):
        return in_users_clinics(self, user, "episode__patient__clinic")


class CaseReview(models.Model):
    """The consultation note of a patient's psychiatric case review
    (docs/clinical-definitions.md#weekly-caseload-review)."""

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="case_reviews")
    agenda_item = models.OneToOneField(
        "AgendaItem", on_delete=models.PROTECT, null=True, blank=True, related_name="case_review"
    )
    reviewed_on = models.DateField()
    consultant = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assessment = models.TextField(blank=True)
    diagnoses = models.JSONField(default=list, blank=True, help_text="ICD-10 codes, e.g. F33.1, F41.1.")
    summary = models.TextField("Reasoning", blank=True, help_text="Why these recommendations.")
    signed_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = CaseReviewQuerySet.as_manager()

    class Meta:
        ordering = ["-reviewed_on", "-pk"]
        indexes = [models.Index(fields=["episode", "reviewed_on"], name="case_review_episode_idx")]
        constraints = [
            models.CheckConstraint(
                name="case_review_signed_with_assessment",
                condition=Q(signed_at__isnull=True) | ~Q(assessment=""),
            ),
        ]

    def __str__(self) -> str:
        return f"Consultation note {self.reviewed_on:%Y-%m-%d}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    def diagnosis_labels(self) -> list[str]:
        return [f"{code} {COMMON_DIAGNOSES.get(code, '')}".strip() for code in self.diagnoses]


class Amendment(models.Model):
    """Added to a signed note, beside it: the note itself never changes."""

    review = models.ForeignKey(CaseReview, on_delete=models.PROTECT, related_name="amendments")
    text = models.TextField()
    amended_at = models.DateTimeField()
    amended_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ["amended_at"]
        constraints = [models.CheckConstraint(name="amendment_text_not_blank", condition=~Q(text=""))]

    def __str__(self) -> str:
        return f"Amendment {self.amended_at:%Y-%m-%d}"


class RecommendationQuerySet(models.QuerySet):
    def visible_to(self, user):
        return in_users_clinics(self, user, "episode__patient__clinic")

    def open(self):
        return self.filter(status__in=Recommendation.OPEN)


class Recommendation(models.Model):
    """One recommendation of a signed note, followed to closure: pending -> communicated to the
    PCP -> the PCP's response -> implemented (or declined, with the reason)."""

    class Kind(models.TextChoices):
        START_MEDICATION = "start_medication", "Start a medication"
        CHANGE_MEDICATION = "change_medication", "Change a medication"
        STOP_MEDICATION = "stop_medication", "Stop a medication"
        ADJUST_DOSE = "adjust_dose", "Adjust a dose"
        DIAGNOSTIC_CLARIFICATION = "diagnostic_clarification", "Diagnostic clarification"
        BEHAVIORAL_CHANGE = "behavioral_change", "Change behavioral intervention"
        REFERRAL = "referral", "Referral to specialty care"
        SAFETY_PLAN = "safety_plan", "Safety plan"
        CONTINUE = "continue", "Continue current plan"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        COMMUNICATED = "communicated", "Communicated to the PCP"
        ACCEPTED = "accepted", "Accepted by the PCP"
        MODIFIED = "modified", "Accepted with changes"
        DECLINED = "declined", "Declined"
        IMPLEMENTED = "implemented", "Implemented"

    class Channel(models.TextChoices):
        EHR_MESSAGE = "ehr_message", "EHR message"
        PHONE = "phone", "Phone"
        IN_PERSON = "in_person", "In person"
        LETTER = "letter", "Letter / fax"
        IN_APP = "in_app", "Seen by the PCP in CareReg"

    MEDICATION_KINDS = {Kind.START_MEDICATION, Kind.CHANGE_MEDICATION, Kind.STOP_MEDICATION, Kind.ADJUST_DOSE}
    OPEN = [Status.PENDING, Status.COMMUNICATED, Status.ACCEPTED, Status.MODIFIED]

    review = models.ForeignKey(CaseReview, on_delete=models.PROTECT, related_name="recommendations")
    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="recommendations")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    drug = models.CharField(max_length=100, blank=True)
    dose = models.CharField(max_length=100, blank=True)
    details = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    recommended_on = models.DateField(null=True, blank=True, help_text="The date of the signed note.")
    communicated_at = models.DateTimeField(null=True, blank=True)
    communicated_how = models.CharField(max_length=16, choices=Channel.choices, blank=True)
    communicated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    responded_at = models.DateTimeField(null=True, blank=True)
    response_note = models.TextField(blank=True, help_text="The PCP's changes, or why declined.")
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    implemented_on = models.DateField(null=True, blank=True)
    implemented_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    objects = RecommendationQuerySet.as_manager()

    class Meta:
        ordering = ["review_id", "pk"]
        indexes = [models.Index(fields=["episode", "status"], name="recommendation_episode_idx")]
        constraints = [
            models.CheckConstraint(
                name="recommendation_medication_names_drug",
                condition=~Q(kind__in=["start_medication", "change_medication", "stop_medication", "adjust_dose"])
                | ~Q(drug=""),
            ),
            models.CheckConstraint(
                name="recommendation_declined_has_reason",
                condition=~Q(status="declined") | ~Q(response_note=""),
            ),
            models.CheckConstraint(
                name="recommendation_communicated_when_and_how",
                condition=Q(status="pending") | Q(communicated_at__isnull=False) & ~Q(communicated_how=""),
            ),
            models.CheckConstraint(
                name="recommendation_implemented_dated",
                condition=~Q(status="implemented") | Q(implemented_on__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        what = f" {self.drug} {self.dose}".rstrip() if self.drug else ""
        return f"{self.get_kind_display()}{what}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def changes_medication(self) -> bool:
        return self.kind in self.MEDICATION_KINDS


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
    meeting_on = models.DateField("Meeting date", null=True, blank=True, help_text="When the review meets.")
    format = models.CharField(
        max_length=16,
        choices=[("in_person", "In person"), ("phone", "Phone"), ("video", "Video")],
        default="video",
    )
    # Until the meeting is held the agenda follows the patients' current flags and requests
    # (consults.agenda.reconcile); once held it is the record of the meeting and never changes.
    held_at = models.DateTimeField(null=True, blank=True)
    held_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
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

    @property
    def meets_on(self):
        return self.meeting_on or self.week_of

    @property
    def is_held(self) -> bool:
        return self.held_at is not None


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
    minutes = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Minutes the patient took.")
    reason_cleared_at = models.DateTimeField(
        null=True, blank=True, help_text="When the flags that put the patient here had all cleared (reasons kept)."
    )
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


class NotificationQuerySet(models.QuerySet):
    def for_user(self, user):
        """A user's own notices, of the clinics they still belong to."""
        return in_users_clinics(self.filter(recipient=user), user, "clinic")

    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """An in-app notice to one user, e.g. a consultant told a patient needs a safety review.
    The text may name the patient (only its recipient, signed in, reads it); its e-mail never does."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    text = models.CharField(max_length=300)
    link = models.CharField(max_length=200, blank=True, help_text="A path in CareReg to act on it.")
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread_idx")]

    def __str__(self) -> str:
        return f"Notification {self.created_at:%Y-%m-%d %H:%M}"
