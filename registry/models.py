"""What happens in care: contacts, measurements and flags (docs/clinical-definitions.md)."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from accounts.models import Clinic
from carereg.lib.checks import ChecksInPython
from patients import models as patients_models
from patients.models import Episode
from registry.instruments import ALWAYS_OFFERED, INSTRUMENTS, MAX_ITEMS, OPTIONAL_INSTRUMENTS
from registry.instruments.base import Instrument

ITEM_FIELDS = [f"item_{n}" for n in range(1, MAX_ITEMS + 1)]
MAX_CONTACT_MINUTES = 600


class EpisodeChildQuerySet(patients_models.EpisodeChildQuerySet):
    """An episode's clinical rows: visible by the episode's clinic, and marked entered in error."""

    def valid(self):
        """Rows that count: not marked entered in error."""
        return self.filter(entered_in_error_at__isnull=True)


class EnteredInError(models.Model):
    """Clinical rows are never deleted by users: a mistake is marked, with who, when and why."""

    entered_in_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    entered_in_error_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    entered_in_error_reason = models.TextField(blank=True, editable=False)

    class Meta:
        abstract = True

    @property
    def is_entered_in_error(self) -> bool:
        return self.entered_in_error_at is not None


class Intervention(models.TextChoices):
    BEHAVIORAL_ACTIVATION = "behavioral_activation", "Behavioral activation"
    PROBLEM_SOLVING = "problem_solving", "Problem-solving treatment"
    MOTIVATIONAL_INTERVIEWING = "motivational_interviewing", "Motivational interviewing"
    PSYCHOEDUCATION = "psychoeducation", "Psychoeducation"
    SAFETY_PLANNING = "safety_planning", "Safety planning"
    MEDICATION_ADHERENCE = "medication_adherence", "Medication adherence support"
    CARE_COORDINATION = "care_coordination", "Care coordination"


class Contact(ChecksInPython, EnteredInError):
    class Kind(models.TextChoices):
        INITIAL_ASSESSMENT = "initial_assessment", "Initial assessment"
        FOLLOW_UP = "follow_up", "Follow-up"
        RELAPSE_PREVENTION = "relapse_prevention", "Relapse prevention"
        OUTREACH = "outreach", "Outreach attempt"
        OTHER = "other", "Other"

    class WithWhom(models.TextChoices):
        PATIENT = "patient", "Patient"
        FAMILY = "family", "Family member"
        PCP = "pcp", "PCP"
        CONSULTANT = "consultant", "Psychiatric consultant"

    class Mode(models.TextChoices):
        IN_PERSON = "in_person", "In person"
        PHONE = "phone", "Phone"
        VIDEO = "video", "Video"
        SECURE_MESSAGE = "secure_message", "Secure message"
        LETTER = "letter", "Letter"

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="contacts")
    contact_date = models.DateField("Date")
    contact_time = models.TimeField("Time", null=True, blank=True)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    with_whom = models.CharField("With whom", max_length=16, choices=WithWhom.choices, default=WithWhom.PATIENT)
    mode = models.CharField(max_length=16, choices=Mode.choices)
    reached = models.BooleanField("Patient reached", default=True)
    minutes = models.PositiveSmallIntegerField(
        "Care manager minutes", default=0, validators=[MaxValueValidator(MAX_CONTACT_MINUTES)]
    )
    interventions = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)
    next_contact_on = models.DateField("Next contact date", null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = EpisodeChildQuerySet.as_manager()

    class Meta:
        ordering = ["-contact_date", "-contact_time", "-pk"]
        constraints = [
            models.CheckConstraint(name="contact_minutes_range", condition=Q(minutes__lte=MAX_CONTACT_MINUTES)),
            models.CheckConstraint(
                name="contact_next_after_contact",
                condition=Q(next_contact_on__isnull=True) | Q(next_contact_on__gte=F("contact_date")),
            ),
            models.CheckConstraint(
                name="contact_kind_valid",
                condition=Q(kind__in=["initial_assessment", "follow_up", "relapse_prevention", "outreach", "other"]),
            ),
            models.CheckConstraint(
                name="contact_mode_valid",
                condition=Q(mode__in=["in_person", "phone", "video", "secure_message", "letter"]),
            ),
            models.CheckConstraint(
                name="contact_with_whom_valid", condition=Q(with_whom__in=["patient", "family", "pcp", "consultant"])
            ),
        ]
        indexes = [
            models.Index(fields=["episode", "contact_date"], name="contact_episode_date_idx"),
            # The outcomes report reads a period's contacts of every episode (its monthly figures).
            models.Index(fields=["contact_date"], name="contact_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.contact_date:%Y-%m-%d}"

    def clean(self) -> None:
        if self.next_contact_on and self.contact_date and self.next_contact_on < self.contact_date:
            raise ValidationError({"next_contact_on": "The next contact date must be on or after this contact."})

    @property
    def is_completed(self) -> bool:
        """A completed contact reached the patient (docs/clinical-definitions.md#registry-columns)."""
        return self.reached and not self.is_entered_in_error

    def intervention_labels(self) -> list[str]:
        return [Intervention(code).label for code in self.interventions if code in Intervention.values]


def _item_constraints() -> list[models.CheckConstraint]:
    """Each instrument's answers in range, unused items empty, and total equal to their sum.

    Generated from the instrument definitions so that the database and the scoring code can
    never disagree about what a valid measurement is.
    """
    per_instrument = []
    for instrument in INSTRUMENTS.values():
        used = ITEM_FIELDS[: instrument.item_count]
        unused = ITEM_FIELDS[instrument.item_count :]
        answered = Q(total_only=False)
        for number, name in enumerate(used, start=1):
            # IS NOT NULL too: a CHECK whose result is NULL passes, so a missing answer would slip by.
            highest = instrument.max_for(number)
            answered &= Q(**{f"{name}__isnull": False, f"{name}__gte": 0, f"{name}__lte": highest})
        total = F(used[0])
        for name in used[1:]:
            total = total + F(name)
        answered &= Q(total=total)
        total_only = Q(total_only=True, **{f"{name}__isnull": True for name in used})
        shape = Q(instrument=instrument.code, total__gte=0, total__lte=instrument.max_total)
        shape &= Q(**{f"{name}__isnull": True for name in unused}) if unused else Q()
        per_instrument.append(shape & ((answered | total_only) if instrument.total_only_allowed else answered))
    any_instrument = per_instrument[0]
    for condition in per_instrument[1:]:
        any_instrument |= condition
    # The difficulty question only where an instrument asks it (the PHQ-9's question 10).
    difficulty = Q(difficulty__isnull=True)
    for instrument in INSTRUMENTS.values():
        question = instrument.extra_question("difficulty")
        if question:
            difficulty |= Q(instrument=instrument.code, difficulty__gte=0, difficulty__lte=question.max_answer)
    return [
        models.CheckConstraint(name="measurement_items_valid_for_instrument", condition=any_instrument),
        models.CheckConstraint(name="measurement_difficulty_phq9_only", condition=difficulty),
    ]


class Measurement(EnteredInError):
    class Source(models.TextChoices):
        CLINICIAN = "clinician", "Clinician administered"
        SELF_REPORT = "self_report", "Patient self-report"
        IMPORT = "import", "Imported"

    INSTRUMENT_CHOICES = [(code, instrument.name) for code, instrument in INSTRUMENTS.items()]

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="measurements")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, null=True, blank=True, related_name="measurements")
    instrument = models.CharField(max_length=8, choices=INSTRUMENT_CHOICES)
    taken_on = models.DateField()
    item_1 = models.PositiveSmallIntegerField(null=True, blank=True)
    item_2 = models.PositiveSmallIntegerField(null=True, blank=True)
    item_3 = models.PositiveSmallIntegerField(null=True, blank=True)
    item_4 = models.PositiveSmallIntegerField(null=True, blank=True)
    item_5 = models.PositiveSmallIntegerField(null=True, blank=True)
    item_6 = models.PositiveSmallIntegerField(null=True, blank=True)
    item_7 = models.PositiveSmallIntegerField(null=True, blank=True)
    item_8 = models.PositiveSmallIntegerField(null=True, blank=True)
    item_9 = models.PositiveSmallIntegerField(null=True, blank=True)
    # Items 10-20 are used by the PCL-5 only.
    item_10 = models.PositiveSmallIntegerField(null=True, blank=True)
    item_11 = models.PositiveSmallIntegerField(null=True, blank=True)
    item_12 = models.PositiveSmallIntegerField(null=True, blank=True)
    item_13 = models.PositiveSmallIntegerField(null=True, blank=True)
    item_14 = models.PositiveSmallIntegerField(null=True, blank=True)
    item_15 = models.PositiveSmallIntegerField(null=True, blank=True)
    item_16 = models.PositiveSmallIntegerField(null=True, blank=True)
    item_17 = models.PositiveSmallIntegerField(null=True, blank=True)
    item_18 = models.PositiveSmallIntegerField(null=True, blank=True)
    item_19 = models.PositiveSmallIntegerField(null=True, blank=True)
    item_20 = models.PositiveSmallIntegerField(null=True, blank=True)
    difficulty = models.PositiveSmallIntegerField(null=True, blank=True, help_text="PHQ-9's unscored question 10.")
    total = models.PositiveSmallIntegerField()
    band = models.CharField(max_length=24)
    total_only = models.BooleanField(default=False, help_text="Legacy total without item answers (item 9 unknown).")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.CLINICIAN)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = EpisodeChildQuerySet.as_manager()

    class Meta:
        ordering = ["-taken_on", "-pk"]
        constraints = _item_constraints()
        indexes = [
            models.Index(fields=["episode", "instrument", "taken_on"], name="measurement_episode_instr_idx"),
            # The outcomes report reads a period's scores of every episode (its monthly figures).
            models.Index(fields=["taken_on"], name="measurement_taken_on_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_instrument_display()} {self.total} on {self.taken_on:%Y-%m-%d}"

    @property
    def answers(self) -> list[int | None]:
        count = INSTRUMENTS[self.instrument].item_count
        return [getattr(self, name) for name in ITEM_FIELDS[:count]]


class Flag(models.Model):
    """A reason to look at a patient now, with its life: raised, seen, resolved (docs/clinical-definitions.md#flags)."""

    class Kind(models.TextChoices):
        SAFETY = "safety", "Safety"
        NOT_IMPROVING = "not_improving", "Not improving"
        NEW_PATIENT = "new_patient", "New patient"
        FOLLOWUP_OVERDUE = "followup_overdue", "Follow-up overdue"
        NO_FIRST_FOLLOWUP = "no_first_followup", "No first follow-up"
        MEASUREMENT_OVERDUE = "measurement_overdue", "Measurement overdue"
        NEEDS_DISCUSSION = "needs_discussion", "Needs discussion"
        RECOMMENDATION_OPEN = "recommendation_open", "Recommendation open"

    # Order of urgency on every list: safety first (docs/clinical-definitions.md#flags).
    PRIORITY = [
        Kind.SAFETY,
        Kind.NOT_IMPROVING,
        Kind.NEW_PATIENT,
        Kind.NEEDS_DISCUSSION,
        Kind.RECOMMENDATION_OPEN,
        Kind.FOLLOWUP_OVERDUE,
        Kind.NO_FIRST_FOLLOWUP,
        Kind.MEASUREMENT_OVERDUE,
    ]

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="flags")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    reason = models.TextField(blank=True)
    measurement = models.ForeignKey(Measurement, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    raised_at = models.DateTimeField()
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when a rule raised it.",
    )
    seen_at = models.DateTimeField(null=True, blank=True)
    seen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when resolved because the rule no longer holds.",
    )
    resolution_note = models.TextField(blank=True)
    history = HistoricalRecords()

    objects = EpisodeChildQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "kind"], condition=Q(resolved_at__isnull=True), name="flag_one_open_per_kind"
            ),
            models.CheckConstraint(
                name="flag_kind_valid",
                condition=Q(
                    kind__in=[
                        "safety",
                        "not_improving",
                        "new_patient",
                        "followup_overdue",
                        "no_first_followup",
                        "measurement_overdue",
                        "needs_discussion",
                        "recommendation_open",
                    ]
                ),
            ),
            models.CheckConstraint(
                name="flag_resolution_has_note",
                condition=Q(resolved_at__isnull=True) | ~Q(resolution_note=""),
            ),
            models.CheckConstraint(
                name="flag_safety_resolved_by_a_person",
                condition=~Q(kind="safety") | Q(resolved_at__isnull=True) | Q(resolved_by__isnull=False),
            ),
        ]
        indexes = [models.Index(fields=["episode", "resolved_at"], name="flag_episode_open_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} flag"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def priority(self) -> int:
        return self.PRIORITY.index(self.kind)


class SafetyAssessment(models.Model):
    """The documented assessment that closes a safety flag: who, when, what was found and done."""

    class Risk(models.TextChoices):
        LOW = "low", "Low"
        MODERATE = "moderate", "Moderate"
        HIGH = "high", "High"
        IMMINENT = "imminent", "Imminent"

    class Action(models.TextChoices):
        SAFETY_PLAN = "safety_plan", "Safety plan made or reviewed"
        CRISIS_RESOURCES = "crisis_resources", "Crisis resources given (988)"
        MEANS_COUNSELING = "means_counseling", "Counseling on access to lethal means"
        CONSULTANT_NOTIFIED = "consultant_notified", "Psychiatric consultant notified"
        PCP_NOTIFIED = "pcp_notified", "PCP notified"
        EMERGENCY = "emergency", "Emergency services / ED referral"
        FOLLOW_UP_SCHEDULED = "follow_up_scheduled", "Close follow-up scheduled"

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="safety_assessments")
    flag = models.OneToOneField(Flag, on_delete=models.PROTECT, related_name="safety_assessment")
    assessed_at = models.DateTimeField()
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    risk_level = models.CharField(max_length=16, choices=Risk.choices)
    actions = models.JSONField(default=list)
    note = models.TextField()
    follow_up_on = models.DateField(
        "Close follow-up by",
        null=True,
        blank=True,
        help_text="The episode's next contact is due by then, until a contact after the assessment.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-assessed_at"]
        constraints = [
            models.CheckConstraint(name="safety_assessment_note_not_blank", condition=~Q(note="")),
            models.CheckConstraint(
                name="safety_assessment_risk_valid", condition=Q(risk_level__in=["low", "moderate", "high", "imminent"])
            ),
        ]

    def __str__(self) -> str:
        return f"Safety assessment {self.assessed_at:%Y-%m-%d %H:%M}"

    def action_labels(self) -> list[str]:
        return [self.Action(code).label for code in self.actions if code in self.Action.values]


class FlagDigest(models.Model):
    """A morning digest e-mail sent to a care manager: at most one a day (the unique key)."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sent_on = models.DateField()
    covers_since = models.DateTimeField(help_text="Flags raised after this moment were counted.")
    sent_at = models.DateTimeField()
    flag_count = models.PositiveIntegerField()

    class Meta:
        ordering = ["-sent_at"]
        constraints = [models.UniqueConstraint(fields=["recipient", "sent_on"], name="flag_digest_once_a_day")]

    def __str__(self) -> str:
        return f"Flag digest {self.sent_on:%Y-%m-%d}"


def _days(default: int, label: str, help_text: str) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        label, default=default, validators=[MinValueValidator(1), MaxValueValidator(730)], help_text=help_text
    )


def default_enabled_instruments() -> list[str]:
    """Those on until an admin says otherwise; instruments for a particular population (the
    EPDS, the PHQ-A) wait to be switched on."""
    return [code for code in OPTIONAL_INSTRUMENTS if INSTRUMENTS[code].enabled_by_default]


class CaseloadPopulation(models.TextChoices):
    """The four cells of the AIMS caseload-size table (docs/clinical-definitions.md#caseload-size)."""

    COMMERCIAL_BH = "commercial_bh", "Commercially insured, good supports; behavioral health only (90-120)"
    COMMERCIAL_BH_MEDICAL = (
        "commercial_bh_medical",
        "Commercially insured, good supports; with medical conditions (80-100)",
    )
    MEDICAID_BH = "medicaid_bh", "Medicaid/uninsured, limited supports; behavioral health only (60-80)"
    MEDICAID_BH_MEDICAL = "medicaid_bh_medical", "Medicaid/uninsured, limited supports; with medical conditions (50-75)"


# Per 1.0 FTE care manager, (low, high), from the AIMS Center's caseload-size guidance.
CASELOAD_RANGES = {
    CaseloadPopulation.COMMERCIAL_BH: (90, 120),
    CaseloadPopulation.COMMERCIAL_BH_MEDICAL: (80, 100),
    CaseloadPopulation.MEDICAID_BH: (60, 80),
    CaseloadPopulation.MEDICAID_BH_MEDICAL: (50, 75),
}


class RegistrySettings(models.Model):
    """Per-clinic thresholds of the rules, defaulting to the documented ones
    (docs/clinical-definitions.md#settings-and-their-defaults)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, "Monday"
        TUESDAY = 1, "Tuesday"
        WEDNESDAY = 2, "Wednesday"
        THURSDAY = 3, "Thursday"
        FRIDAY = 4, "Friday"
        SATURDAY = 5, "Saturday"
        SUNDAY = 6, "Sunday"

    clinic = models.OneToOneField(Clinic, on_delete=models.CASCADE, related_name="registry_settings")
    active_cadence_days = _days(
        14,
        "Follow-up cadence in active treatment (days)",
        "Next contact due this many days after the last; overdue after it.",
    )
    relapse_prevention_cadence_days = _days(
        30, "Follow-up cadence in relapse prevention (days)", "Contacts are less frequent once the goal is met."
    )
    first_followup_days = _days(28, "First follow-up within (days)", "After the initial assessment.")
    not_improving_after_days = _days(
        70, "Not improving after (days)", "Days from the initial assessment (IMPACT: 70 = 10 weeks; some use 56)."
    )
    case_review_recency_days = _days(
        28,
        "A case review counts for (days)",
        "A not-improving patient reviewed within this many days is not flagged again.",
    )
    measurement_overdue_days = _days(30, "Measurement overdue after (days)", "Days since the latest PHQ-9.")
    recommendation_open_days = _days(
        14,
        "Recommendation open for (days)",
        "A consultant's recommendation not yet implemented or declined after this long is flagged.",
    )
    baseline_lookback_days = _days(
        30, "Baseline look-back (days)", "A score this many days before enrollment counts as the baseline."
    )
    referral_overdue_days = _days(
        30,
        "Referral follow-up after (days)",
        "An open referral (sent or scheduled) older than this is listed for follow-up.",
    )
    no_contact_discharge_days = _days(
        182,
        "Suggest discharge after (days without contact)",
        "Open episodes with no completed contact for this long are suggested for discharge (6 months).",
    )
    self_report_link_days = _days(
        7, "Self-report links expire after (days)", "A questionnaire link e-mailed to a patient works once, until then."
    )
    pcl5_positive_at = models.PositiveSmallIntegerField(
        "PCL-5 probable PTSD at",
        default=33,
        validators=[MinValueValidator(31), MaxValueValidator(33)],
        help_text="Total at or above which the PCL-5 screen is positive (the literature's range is 31-33).",
    )
    enabled_instruments = models.JSONField(
        "Instruments care managers see",
        default=default_enabled_instruments,
        help_text="PHQ-9 is always on: it is the registry's main measure.",
    )
    caseload_population = models.CharField(
        "Population served",
        max_length=32,
        choices=CaseloadPopulation.choices,
        default=CaseloadPopulation.MEDICAID_BH,
        help_text="Sets the AIMS caseload-size range per 1.0 FTE care manager.",
    )
    agenda_weekday = models.PositiveSmallIntegerField(
        "Caseload review agenda built on", choices=Weekday.choices, default=Weekday.MONDAY
    )
    agenda_hour = models.PositiveSmallIntegerField(
        "at hour (clinic time)", default=6, validators=[MaxValueValidator(23)]
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = verbose_name_plural = "registry settings"
        constraints = [
            models.CheckConstraint(name="registry_settings_weekday", condition=models.Q(agenda_weekday__lte=6)),
            models.CheckConstraint(name="registry_settings_hour", condition=models.Q(agenda_hour__lte=23)),
        ]

    def __str__(self) -> str:
        return f"Registry settings of {self.clinic}"

    @classmethod
    def for_clinic(cls, clinic: Clinic) -> "RegistrySettings":
        """The clinic's settings; the defaults (unsaved) when an admin has not changed any."""
        try:
            return clinic.registry_settings
        except cls.DoesNotExist:
            return cls(clinic=clinic)

    def offered_instruments(self) -> list[Instrument]:
        """The measures this clinic's care managers see: the PHQ-9, then those switched on."""
        enabled = set(self.enabled_instruments or [])
        return [*ALWAYS_OFFERED, *(INSTRUMENTS[code] for code in OPTIONAL_INSTRUMENTS if code in enabled)]

    def agenda_due_at(self, day: datetime.date) -> bool:
        return day.weekday() == self.agenda_weekday


class ContactSubmission(models.Model):
    """The one-time token of a record-contact form, saved with the contact it created.

    A form posted twice (a double click, a resubmit after a slow answer) carries the same
    token: the unique key lets only the first post save, even when both arrive at once, and
    the second is shown the contact already saved. Not a clinical record: no history.
    """

    token = models.UUIDField(unique=True)
    contact = models.OneToOneField(Contact, on_delete=models.CASCADE, related_name="submission")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Submission of contact {self.contact_id}"


class CaseloadPreferences(models.Model):
    """One user's way of seeing the caseload: the columns they hide and how dense the rows are.

    Hidden columns rather than shown ones are kept, so that a column added later appears for
    everyone. A preference, not a clinical record: no history.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="caseload_preferences")
    hidden_columns = models.JSONField(default=list, blank=True)
    compact = models.BooleanField("Compact rows", default=False)

    def __str__(self) -> str:
        return f"Caseload preferences of {self.user}"


class FlagRefreshRequest(models.Model):
    """An outbox row: the rule flags of this episode (or, with no episode, of the whole
    registry) must be brought up to date.

    Written in the same transaction as the change that calls for it, so it exists exactly when
    the change does; the Celery message queued after commit is only the fast path. A worker
    claims a row for a while (`claimed_until`, a lease) and deletes it after the refresh, only
    if no new request came meanwhile (a new request clears the claim). A row whose worker died
    is claimed again once the lease has passed (registry/outbox.py, docs/deployment.md#flags-after-a-fault).
    Not a clinical record: no history.
    """

    episode = models.OneToOneField(Episode, on_delete=models.CASCADE, null=True, related_name="+")
    requested_at = models.DateTimeField()
    claim = models.UUIDField(null=True)
    claimed_until = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"Flag refresh of episode {self.episode_id}" if self.episode_id else "Flag refresh of the registry"
