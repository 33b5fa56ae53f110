"""Questionnaire links sent to patients, and the schedules that send them (issue 6).

A link is the only way in for a patient, who has no account: its token is random, stored only
as a hash, works once, expires, and opens only after the patient confirms their birth date.
"""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from accounts.scoping import in_users_clinics
from patients.models import Episode

SELF_REPORT_INSTRUMENTS = ("PHQ9", "GAD7")
MAX_BIRTH_DATE_ATTEMPTS = 5


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    SPANISH = "es", "Español"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationQuerySet(models.QuerySet):
    def visible_to(self, user):
        return in_users_clinics(self, user, "episode__patient__clinic")

    def pending(self, now):
        return self.filter(used_at__isnull=True, cancelled_at__isnull=True, locked_at__isnull=True, expires_at__gt=now)


class Invitation(models.Model):
    class Origin(models.TextChoices):
        BY_HAND = "by_hand", "Sent by a care manager"
        SCHEDULED = "scheduled", "Sent on schedule"

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="self_report_invitations")
    instruments = models.JSONField(help_text="Instrument codes, in the order asked.")
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.ENGLISH)
    email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.BY_HAND)
    # The measurements are recorded in this person's name, with source "patient self-report".
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    birth_date_attempts = models.PositiveSmallIntegerField(default=0)
    locked_at = models.DateTimeField(null=True, blank=True, help_text="Too many wrong birth dates.")
    used_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["token_hash"])

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.CheckConstraint(
                name="invitation_expires_after_sending", condition=Q(expires_at__gt=models.F("sent_at"))
            ),
            models.CheckConstraint(name="invitation_language_valid", condition=Q(language__in=["en", "es"])),
        ]

    def __str__(self) -> str:
        return f"Self-report link sent {self.sent_at:%Y-%m-%d}"

    def state(self, now) -> str:
        if self.used_at:
            return "answered"
        if self.cancelled_at:
            return "cancelled"
        if self.locked_at:
            return "locked"
        if self.expires_at <= now:
            return "expired"
        return "pending"


class Schedule(models.Model):
    """Send the next link every so many days while the episode is in active treatment."""

    episode = models.OneToOneField(Episode, on_delete=models.PROTECT, related_name="self_report_schedule")
    every_days = models.PositiveSmallIntegerField(default=14)
    instruments = models.JSONField()
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.ENGLISH)
    next_due_on = models.DateField()
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.CheckConstraint(name="schedule_every_days_range", condition=Q(every_days__gte=7, every_days__lte=90))
        ]

    def __str__(self) -> str:
        return f"Self-report every {self.every_days} days"
