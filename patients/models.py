"""Who the patient is, who cares for them, and their episodes of care
(docs/clinical-definitions.md#episodes-and-status)."""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from accounts.models import Clinic
from accounts.scoping import in_users_clinics


class PatientQuerySet(models.QuerySet):
    def visible_to(self, user) -> "PatientQuerySet":
        """Every patient query starts here: staff see the patients of their own clinics."""
        return in_users_clinics(self, user, "clinic")


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other / intersex"
    UNKNOWN = "unknown", "Unknown"


class Patient(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="patients")
    mrn = models.CharField("MRN", max_length=32, help_text="Medical record number, unique within the clinic.")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    birth_date = models.DateField()
    sex = models.CharField(max_length=16, choices=Sex.choices)
    preferred_language = models.CharField(max_length=50, default="English")
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    address_line = models.CharField("Street address", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=50, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    pcp = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="PCP",
        on_delete=models.PROTECT,
        related_name="pcp_patients",
        null=True,
        blank=True,
    )
    care_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="care_managed_patients",
        null=True,
        blank=True,
    )
    psychiatric_consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="consulted_patients",
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Optimistic concurrency: each edit moves it on; an edit begun on an older version is refused.
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "mrn"], name="patient_mrn_unique_in_clinic"),
            models.CheckConstraint(name="patient_mrn_not_blank", condition=~Q(mrn="")),
            models.CheckConstraint(name="patient_birth_date_plausible", condition=Q(birth_date__gte="1900-01-01")),
        ]
        indexes = [models.Index(fields=["clinic", "last_name", "first_name"], name="patient_clinic_name_idx")]

    def __str__(self) -> str:
        return f"{self.last_name}, {self.first_name} ({self.mrn})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def age_on(self, day: datetime.date) -> int:
        had_birthday = (day.month, day.day) >= (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - (0 if had_birthday else 1)

    def current_episode(self) -> "Episode | None":
        return self.episodes.exclude(status=Episode.Status.DISCHARGED).first()


class EpisodeQuerySet(models.QuerySet):
    def visible_to(self, user) -> "EpisodeQuerySet":
        return in_users_clinics(self, user, "patient__clinic")

    def open(self) -> "EpisodeQuerySet":
        return self.exclude(status=Episode.Status.DISCHARGED)


class Episode(models.Model):
    """One enrollment, from consent to discharge. Outcomes and billing are counted per episode."""

    class Status(models.TextChoices):
        ENROLLED = "enrolled", "Enrolled (initial assessment pending)"
        ACTIVE = "active", "Active treatment"
        RELAPSE_PREVENTION = "relapse_prevention", "Relapse prevention"
        DISCHARGED = "discharged", "Discharged"

    class DischargeReason(models.TextChoices):
        GOALS_MET = "goals_met", "Treatment goals met"
        REFERRED = "referred", "Referred to specialty care"
        DECLINED = "declined", "Patient declined or disengaged"
        MOVED = "moved", "Moved"
        NO_CONTACT = "no_contact", "No contact for 6 months"
        DECEASED = "deceased", "Deceased"
        OTHER = "other", "Other"

    # The lifecycle: which status may follow which. Discharge ends the episode; coming back
    # is a new episode with its own baseline.
    TRANSITIONS = {
        Status.ENROLLED: {Status.ACTIVE, Status.DISCHARGED},
        Status.ACTIVE: {Status.RELAPSE_PREVENTION, Status.DISCHARGED},
        Status.RELAPSE_PREVENTION: {Status.ACTIVE, Status.DISCHARGED},
        Status.DISCHARGED: set(),
    }

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="episodes")
    enrolled_on = models.DateField("Enrollment (consent) date")
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.ENROLLED)
    status_changed_on = models.DateField()
    discharged_on = models.DateField(null=True, blank=True)
    discharge_reason = models.CharField(max_length=16, choices=DischargeReason.choices, blank=True)
    discharge_note = models.TextField(blank=True)

    # Derived from the episode's contacts and measurements by registry.summaries, in the
    # same transaction as every write to them, so that the caseload dashboard can sort and
    # filter 10,000 episodes without a subquery per row. Never edited by hand.
    initial_assessment_on = models.DateField(null=True, blank=True, editable=False)
    last_contact_on = models.DateField(null=True, blank=True, editable=False)
    next_contact_on = models.DateField(null=True, blank=True, editable=False)
    completed_contacts = models.PositiveIntegerField(default=0, editable=False)
    phq9_baseline = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    phq9_baseline_on = models.DateField(null=True, blank=True, editable=False)
    phq9_latest = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    phq9_latest_on = models.DateField(null=True, blank=True, editable=False)
    gad7_baseline = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    gad7_baseline_on = models.DateField(null=True, blank=True, editable=False)
    gad7_latest = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    gad7_latest_on = models.DateField(null=True, blank=True, editable=False)
    first_case_review_on = models.DateField(null=True, blank=True, editable=False)
    last_case_review_on = models.DateField(null=True, blank=True, editable=False)
    open_recommendations = models.PositiveIntegerField(default=0, editable=False)

    history = HistoricalRecords(
        excluded_fields=[
            "initial_assessment_on",
            "last_contact_on",
            "next_contact_on",
            "completed_contacts",
            "phq9_baseline",
            "phq9_baseline_on",
            "phq9_latest",
            "phq9_latest_on",
            "gad7_baseline",
            "gad7_baseline_on",
            "gad7_latest",
            "gad7_latest_on",
            "first_case_review_on",
            "last_case_review_on",
            "open_recommendations",
        ]
    )

    objects = EpisodeQuerySet.as_manager()

    class Meta:
        ordering = ["-enrolled_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=~Q(status="discharged"),
                name="episode_one_open_per_patient",
            ),
            models.CheckConstraint(
                name="episode_discharge_fields_with_status",
                condition=(
                    Q(status="discharged", discharged_on__isnull=False) & ~Q(discharge_reason="")
                    | ~Q(status="discharged") & Q(discharged_on__isnull=True, discharge_reason="")
                ),
            ),
            models.CheckConstraint(
                name="episode_discharge_after_enrollment",
                condition=Q(discharged_on__isnull=True) | Q(discharged_on__gte=models.F("enrolled_on")),
            ),
            models.CheckConstraint(
                name="episode_status_valid",
                condition=Q(status__in=["enrolled", "active", "relapse_prevention", "discharged"]),
            ),
            models.CheckConstraint(
                name="episode_discharge_reason_valid",
                condition=Q(
                    discharge_reason__in=[
                        "",
                        "goals_met",
                        "referred",
                        "declined",
                        "moved",
                        "no_contact",
                        "deceased",
                        "other",
                    ]
                ),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "patient"], name="episode_status_patient_idx"),
            models.Index(fields=["phq9_latest"], name="episode_phq9_latest_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.patient} episode from {self.enrolled_on:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.DISCHARGED

    def allowed_next_statuses(self) -> list[str]:
        return [s for s in self.Status if s in self.TRANSITIONS[self.Status(self.status)]]

    def earliest_score_on(self, lookback_days: int) -> datetime.date:
        """The first day a score may belong to this episode: the screening look-back before
        enrollment (docs/clinical-definitions.md#baseline-latest-and-change), but never a day the
        patient's previous episode was still open. A score taken then is the previous episode's, so
        it can never become this episode's baseline."""
        earliest = self.enrolled_on - datetime.timedelta(days=lookback_days)
        previous_discharge = (
            Episode.objects.filter(patient_id=self.patient_id, enrolled_on__lt=self.enrolled_on)
            .exclude(pk=self.pk)
            .aggregate(last=models.Max("discharged_on"))["last"]
        )
        if previous_discharge is not None and previous_discharge >= earliest:
            earliest = min(self.enrolled_on, previous_discharge + datetime.timedelta(days=1))
        return earliest


# --- The care manager's plans for an episode (docs/user-guide.md#initial-assessment and on) --


class EpisodeChildQuerySet(models.QuerySet):
    def visible_to(self, user) -> "EpisodeChildQuerySet":
        return in_users_clinics(self, user, "episode__patient__clinic")


def _both_or_neither(prefix: str, first: str, second: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        name=f"{prefix}_{first}_with_{second}",
        condition=Q(**{f"{first}__isnull": True, f"{second}__isnull": True})
        | Q(**{f"{first}__isnull": False, f"{second}__isnull": False}),
    )


class InitialAssessment(models.Model):
    """The care manager's initial assessment of an episode (docs/user-guide.md#initial-assessment).
    One per episode, edited while the episode is open; every version is kept in its history."""

    episode = models.OneToOneField(Episode, on_delete=models.PROTECT, related_name="assessment")
    presenting_problems = models.TextField(blank=True)
    diagnoses = models.JSONField(
        default=list, blank=True, help_text='ICD-10-CM codes with labels: [{"code": "F32.1", "label": "..."}].'
    )
    alcohol_use = models.CharField(max_length=300, blank=True)
    tobacco_use = models.CharField(max_length=300, blank=True)
    cannabis_use = models.CharField(max_length=300, blank=True)
    other_drug_use = models.CharField("Other drug use", max_length=300, blank=True)
    substance_use_notes = models.TextField(blank=True)
    current_suicidal_ideation = models.BooleanField(null=True, blank=True)
    past_suicide_attempts = models.BooleanField("History of suicide attempts", null=True, blank=True)
    access_to_means = models.BooleanField("Access to lethal means", null=True, blank=True)
    safety_notes = models.TextField(blank=True)
    stressors = models.TextField("Psychosocial stressors", blank=True)
    supports = models.TextField(blank=True)
    patient_goals = models.TextField("Patient's goals (in their own words)", blank=True)
    completed_on = models.DateField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    objects = EpisodeChildQuerySet.as_manager()

    class Meta:
        constraints = [_both_or_neither("initial_assessment", "completed_on", "completed_by")]

    def __str__(self) -> str:
        return f"Initial assessment of {self.episode}"

    @property
    def is_complete(self) -> bool:
        return self.completed_on is not None


class TreatmentPlan(models.Model):
    """Goals, the target and the current treatments of an episode; each change to it is a PlanChange
    with its reason (docs/user-guide.md#treatment-plan-and-its-changes)."""

    DEFAULT_TARGET = "PHQ-9 < 5 or 50% reduction"

    episode = models.OneToOneField(Episode, on_delete=models.PROTECT, related_name="treatment_plan")
    goals = models.TextField(blank=True)
    target = models.CharField(max_length=200, default=DEFAULT_TARGET)
    current_treatments = models.TextField(blank=True, help_text="Medications, psychotherapy, other care: a summary.")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    objects = EpisodeChildQuerySet.as_manager()

    class Meta:
        constraints = [models.CheckConstraint(name="treatment_plan_target_not_blank", condition=~Q(target=""))]

    def __str__(self) -> str:
        return f"Treatment plan of {self.episode}"


class PlanChange(models.Model):
    """One dated change to the treatment plan, with its reason, and the consultant's
    recommendation it came from when there is one. Never deleted: marked entered in error."""

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="plan_changes")
    changed_on = models.DateField()
    reason = models.TextField()
    what_changed = models.TextField()
    recommendation = models.ForeignKey(
        "consults.Recommendation", on_delete=models.PROTECT, null=True, blank=True, related_name="plan_changes"
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    entered_in_error_at = models.DateTimeField(null=True, blank=True)
    entered_in_error_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    entered_in_error_reason = models.TextField(blank=True)
    history = HistoricalRecords()

    objects = EpisodeChildQuerySet.as_manager()

    class Meta:
        ordering = ["-changed_on", "-pk"]
        indexes = [models.Index(fields=["episode", "changed_on"], name="plan_change_episode_idx")]
        constraints = [
            models.CheckConstraint(name="plan_change_reason_not_blank", condition=~Q(reason="")),
            models.CheckConstraint(name="plan_change_what_not_blank", condition=~Q(what_changed="")),
            _both_or_neither("plan_change", "entered_in_error_at", "entered_in_error_by"),
            models.UniqueConstraint(
                fields=["recommendation"],
                condition=Q(recommendation__isnull=False, entered_in_error_at__isnull=True),
                name="plan_change_once_per_recommendation",
            ),
        ]

    def __str__(self) -> str:
        return f"Plan change {self.changed_on:%Y-%m-%d}"

    @property
    def is_entered_in_error(self) -> bool:
        return self.entered_in_error_at is not None


class RelapsePreventionPlan(models.Model):
    """What the patient does to stay well (docs/user-guide.md#relapse-prevention): complete once
    every part is written and it is dated and signed. Moving to relapse prevention and discharge
    with treatment goals met need it complete (docs/clinical-definitions.md#episodes-and-status)."""

    REQUIRED = {
        "warning_signs": "warning signs",
        "coping_strategies": "coping strategies",
        "maintenance_treatment": "maintenance treatment",
        "contacts": "who to contact",
        "when_to_come_back": "when to come back",
    }

    episode = models.OneToOneField(Episode, on_delete=models.PROTECT, related_name="relapse_plan")
    warning_signs = models.TextField(blank=True, help_text="The signs that depression or anxiety is coming back.")
    coping_strategies = models.TextField(blank=True, help_text="What helps: activities, people, skills.")
    maintenance_treatment = models.TextField(
        blank=True, help_text="Medication and care to keep going, and for how long."
    )
    contacts = models.TextField(
        "Who to contact", blank=True, help_text="Names and phone numbers. The 988 crisis line is always printed."
    )
    when_to_come_back = models.TextField(blank=True, help_text="When to call the care team again.")
    completed_on = models.DateField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    objects = EpisodeChildQuerySet.as_manager()

    class Meta:
        constraints = [
            _both_or_neither("relapse_plan", "completed_on", "completed_by"),
            models.CheckConstraint(
                name="relapse_plan_complete_has_every_part",
                condition=Q(completed_on__isnull=True)
                | ~Q(warning_signs="")
                & ~Q(coping_strategies="")
                & ~Q(maintenance_treatment="")
                & ~Q(contacts="")
                & ~Q(when_to_come_back=""),
            ),
        ]

    def __str__(self) -> str:
        return f"Relapse prevention plan of {self.episode}"

    def missing(self) -> list[str]:
        return [label for name, label in self.REQUIRED.items() if not getattr(self, name).strip()]

    @property
    def is_complete(self) -> bool:
        return self.completed_on is not None and not self.missing()
