"""The treatments a care manager tracks: medications, brief interventions, referrals, education.

Medications, referrals and education given belong to an episode; medication reports and
intervention sessions belong to the contact at which the patient told or received them, so
that a contact marked entered in error takes them with it. Writes go through care.services.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from accounts.models import Clinic
from accounts.scoping import in_users_clinics
from patients.models import Episode
from registry.models import Contact, EnteredInError, EpisodeChildQuerySet, Intervention


class ContactChildQuerySet(models.QuerySet):
    def visible_to(self, user):
        return in_users_clinics(self, user, "contact__episode__patient__clinic")

    def valid(self):
        """Rows that count: their contact is not marked entered in error."""
        return self.filter(contact__entered_in_error_at__isnull=True)


# --- Medications (docs/user-guide.md#medications) ---------------------------------------------------


class Medication(EnteredInError):
    """A medication the patient takes for depression or anxiety, as the PCP prescribed it."""

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="medications")
    name = models.CharField(max_length=200, help_text="e.g. sertraline")
    dose = models.CharField(max_length=100, help_text="e.g. 50 mg")
    instructions = models.CharField(
        "Frequency / instructions", max_length=200, blank=True, help_text="e.g. once daily in the morning"
    )
    started_on = models.DateField("Started on")
    stopped_on = models.DateField("Stopped on", null=True, blank=True)
    stop_reason = models.CharField("Why stopped", max_length=300, blank=True)
    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The patient's PCP, when they prescribed it.",
    )
    prescriber_name = models.CharField(
        "Prescriber (other)", max_length=200, blank=True, help_text="Anyone else: name and practice."
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = EpisodeChildQuerySet.as_manager()

    class Meta:
        ordering = ["-started_on", "name"]
        constraints = [
            models.CheckConstraint(name="medication_name_not_blank", condition=~Q(name="")),
            models.CheckConstraint(
                name="medication_stop_after_start",
                condition=Q(stopped_on__isnull=True) | Q(stopped_on__gte=F("started_on")),
            ),
            models.CheckConstraint(
                name="medication_stopped_with_reason",
                condition=Q(stopped_on__isnull=True, stop_reason="") | Q(stopped_on__isnull=False) & ~Q(stop_reason=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.dose}".strip()

    @property
    def is_current(self) -> bool:
        return self.stopped_on is None and not self.is_entered_in_error

    @property
    def prescribed_by(self) -> str:
        return str(self.prescriber) if self.prescriber_id else self.prescriber_name


class MedicationReport(models.Model):
    """What the patient says about one medication at a contact."""

    class Adherence(models.TextChoices):
        AS_PRESCRIBED = "as_prescribed", "Taking as prescribed"
        MISSED_SOME = "missed_some", "Missed some doses"
        STOPPED_OWN = "stopped_own", "Stopped on own"
        NOT_STARTED = "not_started", "Not started"

    class Severity(models.TextChoices):
        NONE = "none", "None"
        MILD = "mild", "Mild"
        MODERATE = "moderate", "Moderate"
        SEVERE = "severe", "Severe"

    class Effectiveness(models.TextChoices):
        MUCH_BETTER = "much_better", "Much better"
        SOMEWHAT_BETTER = "somewhat_better", "Somewhat better"
        NO_CHANGE = "no_change", "No change"
        WORSE = "worse", "Worse"

    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="medication_reports")
    medication = models.ForeignKey(Medication, on_delete=models.PROTECT, related_name="reports")
    adherence = models.CharField(max_length=16, choices=Adherence.choices, blank=True)
    side_effect_severity = models.CharField(
        "Side effects: severity", max_length=16, choices=Severity.choices, blank=True
    )
    side_effects = models.TextField("Side effects", blank=True)
    effectiveness = models.CharField(
        "Effectiveness (as the patient reports it)", max_length=16, choices=Effectiveness.choices, blank=True
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = ContactChildQuerySet.as_manager()

    class Meta:
        ordering = ["-contact__contact_date", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["contact", "medication"], name="medication_report_once_per_contact"),
            models.CheckConstraint(
                name="medication_report_says_something",
                condition=~Q(adherence="", side_effect_severity="", effectiveness=""),
            ),
            models.CheckConstraint(
                name="medication_report_side_effects_described",
                condition=Q(side_effect_severity__in=["", "none"]) | ~Q(side_effects=""),
            ),
            models.CheckConstraint(
                name="medication_report_choices_valid",
                condition=Q(adherence__in=["", "as_prescribed", "missed_some", "stopped_own", "not_started"])
                & Q(side_effect_severity__in=["", "none", "mild", "moderate", "severe"])
                & Q(effectiveness__in=["", "much_better", "somewhat_better", "no_change", "worse"]),
            ),
        ]

    def __str__(self) -> str:
        return f"Report on {self.medication}"

    def summary(self) -> str:
        parts = []
        if self.adherence:
            parts.append(self.get_adherence_display())
        if self.side_effect_severity and self.side_effect_severity != self.Severity.NONE:
            parts.append(f"side effects ({self.get_side_effect_severity_display().lower()}): {self.side_effects}")
        elif self.side_effect_severity == self.Severity.NONE:
            parts.append("no side effects")
        if self.effectiveness:
            parts.append(f"feels {self.get_effectiveness_display().lower()}")
        return "; ".join(parts)


# --- Brief behavioral interventions (docs/clinical-definitions.md#brief-interventions) ----------------


class InterventionSession(models.Model):
    """One session of a brief intervention at a contact: e.g. problem-solving treatment, session 3 of 6."""

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="intervention_sessions")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="intervention_sessions")
    intervention = models.CharField(max_length=32, choices=Intervention.choices)
    session_number = models.PositiveSmallIntegerField("Session")
    planned_sessions = models.PositiveSmallIntegerField("of (planned)", null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = ContactChildQuerySet.as_manager()

    class Meta:
        ordering = ["-contact__contact_date", "intervention", "-session_number"]
        constraints = [
            models.UniqueConstraint(fields=["contact", "intervention"], name="intervention_session_once_per_contact"),
            models.CheckConstraint(
                name="intervention_session_number_positive", condition=Q(session_number__gte=1, session_number__lte=99)
            ),
            models.CheckConstraint(
                name="intervention_session_within_plan",
                condition=Q(planned_sessions__isnull=True)
                | Q(planned_sessions__gte=1, planned_sessions__lte=99, session_number__lte=F("planned_sessions")),
            ),
            models.CheckConstraint(
                name="intervention_session_kind_valid", condition=Q(intervention__in=Intervention.values)
            ),
        ]
        indexes = [models.Index(fields=["episode", "intervention"], name="care_session_episode_idx")]

    def __str__(self) -> str:
        planned = f" of {self.planned_sessions}" if self.planned_sessions else ""
        return f"{self.get_intervention_display()}, session {self.session_number}{planned}"


# --- Referrals (docs/user-guide.md#referrals, docs/clinical-definitions.md#referrals-to-follow-up) --


class Referral(EnteredInError):
    class Kind(models.TextChoices):
        PSYCHOTHERAPY = "psychotherapy", "Psychotherapy (internal)"
        PST_GROUP = "pst_group", "PST group (internal)"
        OTHER_INTERNAL = "other_internal", "Other internal"
        HOUSING = "housing", "Housing"
        VOCATIONAL = "vocational", "Vocational rehabilitation"
        SPECIALTY_MH = "specialty_mh", "Specialty mental health"
        SUBSTANCE_USE = "substance_use", "Substance use treatment"
        SOCIAL_SERVICES = "social_services", "Social services"
        OTHER_EXTERNAL = "other_external", "Other external"

    INTERNAL = {Kind.PSYCHOTHERAPY, Kind.PST_GROUP, Kind.OTHER_INTERNAL}

    class Status(models.TextChoices):
        SENT = "sent", "Sent"
        SCHEDULED = "scheduled", "Scheduled"
        COMPLETED = "completed", "Completed"
        DECLINED = "declined", "Declined"
        NO_SHOW = "no_show", "No show"

    OPEN = {Status.SENT, Status.SCHEDULED}
    # sent -> scheduled -> completed / declined / no show; a patient may decline before it is scheduled.
    TRANSITIONS = {
        Status.SENT: {Status.SCHEDULED, Status.DECLINED},
        Status.SCHEDULED: {Status.COMPLETED, Status.DECLINED, Status.NO_SHOW},
        Status.COMPLETED: set(),
        Status.DECLINED: set(),
        Status.NO_SHOW: set(),
    }

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="referrals")
    contact = models.ForeignKey(
        Contact, on_delete=models.PROTECT, null=True, blank=True, related_name="referrals", editable=False
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    to_whom = models.CharField("Referred to", max_length=200, help_text="Organisation or person.")
    reason = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SENT)
    sent_on = models.DateField("Sent on")
    scheduled_for = models.DateField("Scheduled for", null=True, blank=True)
    closed_on = models.DateField("Closed on", null=True, blank=True)
    status_note = models.TextField("Latest status note", blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = EpisodeChildQuerySet.as_manager()

    class Meta:
        ordering = ["-sent_on", "-pk"]
        constraints = [
            models.CheckConstraint(name="referral_to_whom_not_blank", condition=~Q(to_whom="")),
            models.CheckConstraint(name="referral_reason_not_blank", condition=~Q(reason="")),
            models.CheckConstraint(
                name="referral_status_valid",
                condition=Q(status__in=["sent", "scheduled", "completed", "declined", "no_show"]),
            ),
            models.CheckConstraint(
                name="referral_kind_valid",
                condition=Q(
                    kind__in=[
                        "psychotherapy",
                        "pst_group",
                        "other_internal",
                        "housing",
                        "vocational",
                        "specialty_mh",
                        "substance_use",
                        "social_services",
                        "other_external",
                    ]
                ),
            ),
            models.CheckConstraint(
                name="referral_open_has_no_close_date",
                condition=Q(status__in=["sent", "scheduled"], closed_on__isnull=True)
                | Q(status__in=["completed", "declined", "no_show"], closed_on__isnull=False),
            ),
            models.CheckConstraint(
                name="referral_scheduled_has_date",
                condition=~Q(status__in=["scheduled", "completed", "no_show"]) | Q(scheduled_for__isnull=False),
            ),
            models.CheckConstraint(
                name="referral_dates_in_order",
                condition=(Q(scheduled_for__isnull=True) | Q(scheduled_for__gte=F("sent_on")))
                & (Q(closed_on__isnull=True) | Q(closed_on__gte=F("sent_on"))),
            ),
        ]
        indexes = [models.Index(fields=["status", "sent_on"], name="referral_status_sent_idx")]

    def __str__(self) -> str:
        return f"Referral to {self.to_whom} ({self.get_kind_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def is_internal(self) -> bool:
        return self.kind in self.INTERNAL

    def allowed_next_statuses(self) -> list[str]:
        return [s for s in self.Status.values if s in self.TRANSITIONS[self.Status(self.status)]]


# --- Patient education (docs/user-guide.md#education) ---------------------------------------------------


class EducationTopicQuerySet(models.QuerySet):
    def visible_to(self, user):
        return in_users_clinics(self, user, "clinic")


class EducationTopic(models.Model):
    """A handout in the clinic's library, in plain language; clinic admins edit it in the app."""

    class Category(models.TextChoices):
        DEPRESSION = "depression", "Depression"
        ANXIETY = "anxiety", "Anxiety"
        MEDICATIONS = "medications", "Medications"
        BEHAVIORAL_ACTIVATION = "behavioral_activation", "Behavioral activation"
        PROBLEM_SOLVING = "problem_solving", "Problem solving"
        SLEEP = "sleep", "Sleep"
        SUBSTANCE_USE = "substance_use", "Substance use"
        SAFETY = "safety", "Safety"
        OTHER = "other", "Other"

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="education_topics")
    title = models.CharField(max_length=200)
    category = models.CharField(max_length=32, choices=Category.choices)
    handout_text = models.TextField("Handout text", help_text="Plain language; blank lines separate paragraphs.")
    language = models.CharField(max_length=50, blank=True, help_text="Leave empty for English.")
    active = models.BooleanField(default=True, help_text="Inactive topics are kept but no longer offered.")
    history = HistoricalRecords()

    objects = EducationTopicQuerySet.as_manager()

    class Meta:
        ordering = ["category", "title"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "title", "language"], name="education_topic_unique_in_clinic"),
            models.CheckConstraint(name="education_topic_title_not_blank", condition=~Q(title="")),
            models.CheckConstraint(name="education_topic_text_not_blank", condition=~Q(handout_text="")),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.language})" if self.language else self.title


class EducationGiven(EnteredInError):
    class How(models.TextChoices):
        IN_PERSON = "in_person", "In person"
        MAILED = "mailed", "Mailed"
        PORTAL = "portal", "Patient portal"
        EMAIL = "email", "E-mail"

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="education_given")
    contact = models.ForeignKey(
        Contact, on_delete=models.PROTECT, null=True, blank=True, related_name="education_given", editable=False
    )
    topic = models.ForeignKey(EducationTopic, on_delete=models.PROTECT, related_name="given")
    given_on = models.DateField("Given on")
    how = models.CharField(max_length=16, choices=How.choices)
    given_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = EpisodeChildQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "education given"
        ordering = ["-given_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="education_given_how_valid", condition=Q(how__in=["in_person", "mailed", "portal", "email"])
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic} given {self.given_on:%Y-%m-%d}"
