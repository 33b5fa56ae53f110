"""Who read which record, and emergency access outside one's clinic.

An app of its own because it watches every other app from outside (a middleware and a
table of URL names) and its log must outlive anything the others do: the database refuses
to change or delete an access event (migration 0002), whatever the application asks.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from accounts.scoping import in_users_clinics


class Kind(models.TextChoices):
    RECORD = "record", "Patient record"
    LIST = "list", "List or dashboard"
    SEARCH = "search", "Search"
    EXPORT = "export", "Export"
    PRINT = "print", "Print"
    REPORT = "report", "Report"
    ADMIN = "admin", "Admin view"
    API = "api", "API read"
    SELF_REPORT = "self_report", "Self-report page"


class Outcome(models.TextChoices):
    """What the answer did (docs/access-log.md#what-is-logged)."""

    ALLOWED = "allowed", "Allowed"  # the record was shown
    DENIED = "denied", "Denied"
    EMERGENCY = "emergency", "Emergency access"  # shown outside the user's clinics, under a grant
    SUBMITTED = "submitted", "Form sent"  # a form accepted and answered with a redirect: nothing shown


class AccessEvent(models.Model):
    """One request that showed (or was refused) patient data, or sent a form about it. Append-only.

    Holds ids, never names, MRNs or query strings. The patient and clinic are kept as plain
    ids without a database constraint: a refused id may name no patient at all, and the log
    must never stand in the way of anything else (nor they in its).
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True, help_text="Kept as text: the row stays meaningful.")
    remote_addr = models.GenericIPAddressField("From", null=True, blank=True)
    method = models.CharField(max_length=8)
    url_name = models.CharField("Page", max_length=100)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    status_code = models.PositiveSmallIntegerField()
    patient = models.ForeignKey(
        "patients.Patient",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    clinic = models.ForeignKey(
        "accounts.Clinic", on_delete=models.DO_NOTHING, db_constraint=False, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["patient", "-at"], name="accessevent_patient_at"),
            models.Index(fields=["user", "-at"], name="accessevent_user_at"),
        ]

    def __str__(self) -> str:
        return f"{self.username or 'anonymous'} {self.get_kind_display()} {self.outcome} at {self.at:%Y-%m-%d %H:%M}"


class EmergencyAccessQuerySet(models.QuerySet):
    def active(self, now=None) -> "EmergencyAccessQuerySet":
        now = now or timezone.now()
        return self.filter(granted_at__lte=now, expires_at__gt=now)

    def visible_to(self, user) -> "EmergencyAccessQuerySet":
        """Grants to patients of the user's clinics: what their clinic admins are shown."""
        return in_users_clinics(self, user, "patient__clinic")


class EmergencyAccess(models.Model):
    """ "Break the glass": read access to one patient outside one's clinics, for a while."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="emergency_accesses")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="emergency_accesses")
    reason = models.TextField()
    granted_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField()
    history = HistoricalRecords()

    objects = EmergencyAccessQuerySet.as_manager()

    class Meta:
        ordering = ["-granted_at", "-pk"]
        verbose_name_plural = "emergency accesses"
        constraints = [
            models.CheckConstraint(
                name="emergency_access_expires_after_grant", condition=Q(expires_at__gt=models.F("granted_at"))
            ),
            models.CheckConstraint(name="emergency_access_reason_given", condition=~Q(reason="")),
        ]

    def __str__(self) -> str:
        return f"Emergency access by {self.user} to registry id {self.patient_id} at {self.granted_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.granted_at <= timezone.now() < self.expires_at
