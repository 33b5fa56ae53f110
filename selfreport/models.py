"""Questionnaire links sent to patients, the schedules that send them, and the messages that
carry them (e-mail or text), with the patient's consent to texts.

A link is the only way in for a patient, who has no account: its token is random, stored only
as a hash (one per message that carried it), works once, expires, and opens only after the
patient confirms their birth date.
"""

import datetime
import hashlib

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from simple_history.models import HistoricalRecords

from accounts.models import Clinic
from accounts.scoping import in_users_clinics
from patients.models import Episode, Patient
from registry.instruments import INSTRUMENTS

# The instruments a patient can be sent: those with a patient's wording (registry/instruments/).
SELF_REPORT_INSTRUMENTS = tuple(code for code, instrument in INSTRUMENTS.items() if instrument.self_report)
MAX_BIRTH_DATE_ATTEMPTS = 5


class Language(models.TextChoices):
    ENGLISH = "en", "English"
    SPANISH = "es", "Español"


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"
    SMS = "sms", "Text message"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationQuerySet(models.QuerySet):
    def visible_to(self, user):
        return in_users_clinics(self, user, "episode__patient__clinic")

    def pending(self, now):
        return self.filter(used_at__isnull=True, cancelled_at__isnull=True, locked_at__isnull=True, expires_at__gt=now)

    def with_token(self, token: str):
        """The invitation a link's token opens: each message carrying it has its own token."""
        return self.filter(deliveries__token_hash=token_hash(token))


class Invitation(models.Model):
    class Origin(models.TextChoices):
        BY_HAND = "by_hand", "Sent by a care manager"
        SCHEDULED = "scheduled", "Sent on schedule"

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="self_report_invitations")
    instruments = models.JSONField(help_text="Instrument codes, in the order asked.")
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.ENGLISH)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.EMAIL)
    # A text goes to the number of the patient's consent as it is when it is sent (TextConsent).
    email = models.EmailField(blank=True)
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.BY_HAND)
    # The measurements are recorded in this person's name, with source "patient self-report".
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    birth_date_attempts = models.PositiveSmallIntegerField(default=0)
    locked_at = models.DateTimeField(null=True, blank=True, help_text="Too many wrong birth dates.")
    used_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.CheckConstraint(
                name="invitation_expires_after_sending", condition=Q(expires_at__gt=models.F("sent_at"))
            ),
            models.CheckConstraint(name="invitation_language_valid", condition=Q(language__in=["en", "es"])),
            models.CheckConstraint(name="invitation_email_has_address", condition=~Q(channel="email") | ~Q(email="")),
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
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.EMAIL)
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


class Delivery(models.Model):
    """One message of an invitation: its link, or the one reminder before it expires.

    A message carries a link of its own: the token is made when the message is sent and only
    its hash is kept. Texts wait here while the clinic's quiet hours last (send_after).
    """

    class Kind(models.TextChoices):
        LINK = "link", "Link"
        REMINDER = "reminder", "Reminder"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to be sent"
        SENT = "sent", "Sent"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        NOT_SENT = "not_sent", "Not sent"

    invitation = models.ForeignKey(Invitation, on_delete=models.PROTECT, related_name="deliveries")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    to = models.CharField(max_length=254, blank=True, help_text="The address or number it went to.")
    created_at = models.DateTimeField()
    send_after = models.DateTimeField(help_text="Not before: the end of quiet hours, or of a retry's wait.")
    sent_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    # The provider's error code, or why it was not sent: never the message or the number.
    detail = models.CharField(max_length=100, blank=True)
    provider_message_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    history = HistoricalRecords(excluded_fields=["token_hash"])

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["invitation", "kind"], name="delivery_one_per_kind"),
            models.CheckConstraint(
                name="delivery_sent_has_time_and_address",
                condition=~Q(status__in=["sent", "delivered"]) | (Q(sent_at__isnull=False) & ~Q(to="")),
            ),
        ]
        indexes = [models.Index(fields=["status", "send_after"], name="delivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.get_channel_display().lower()}: {self.get_status_display().lower()}"


class TextConsentQuerySet(models.QuerySet):
    def visible_to(self, user):
        return in_users_clinics(self, user, "patient__clinic")

    def textable(self):
        """Consents that allow a text now: given, and the number has not replied STOP since."""
        opted_out = TextOptOut.objects.filter(phone_number=OuterRef("phone_number"), opted_out=True)
        return self.filter(status=TextConsent.Status.GIVEN).exclude(Exists(opted_out))


class TextConsent(models.Model):
    """The patient's consent to texts and the mobile number it covers; history keeps every
    change with who (a person, or the patient by replying STOP or START) and when.

    Kept apart from Patient.phone, which may be a landline or a relative's: texts go only to
    the number the patient agreed to, in E.164 form.
    """

    class Status(models.TextChoices):
        GIVEN = "given", "Agreed to texts"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Source(models.TextChoices):
        STAFF = "staff", "Recorded by staff"
        PATIENT_STOP = "patient_stop", "Patient replied STOP"
        PATIENT_START = "patient_start", "Patient replied START"

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="text_consent")
    phone_number = models.CharField("Mobile number", max_length=16, help_text="E.164, e.g. +12065550123.")
    status = models.CharField(max_length=16, choices=Status.choices)
    source = models.CharField(max_length=16, choices=Source.choices)
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    history = HistoricalRecords()

    objects = TextConsentQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(name="text_consent_number_e164", condition=Q(phone_number__startswith="+")),
            models.CheckConstraint(
                name="text_consent_staff_named",
                condition=Q(source="staff", changed_by__isnull=False)
                | (~Q(source="staff") & Q(changed_by__isnull=True)),
            ),
        ]

    def __str__(self) -> str:
        return f"Texts: {self.get_status_display().lower()}"


class TextOptOut(models.Model):
    """A number that replied STOP: nothing is texted to it until it replies START.

    Kept by number, not by patient: the phone opted out, whoever's record holds it, and the
    provider refuses texts to it until then too.
    """

    phone_number = models.CharField(max_length=16, unique=True)
    opted_out = models.BooleanField()
    changed_at = models.DateTimeField()
    history = HistoricalRecords()

    def __str__(self) -> str:
        return "Opted out of texts" if self.opted_out else "Opted in to texts again"


class MessagingSettings(models.Model):
    """How a clinic's messages to patients go out: its quiet hours and the reminder."""

    clinic = models.OneToOneField(Clinic, on_delete=models.PROTECT, related_name="messaging_settings")
    quiet_hours_start = models.TimeField(
        "Quiet hours from", default=datetime.time(20, 0), help_text="Clinic time. No text goes out from then..."
    )
    quiet_hours_end = models.TimeField(
        "until", default=datetime.time(8, 0), help_text="...until then; texts due meanwhile wait. The same time: none."
    )
    reminder_days_before_expiry = models.PositiveSmallIntegerField(
        "Reminder before a link expires (days)",
        default=2,
        validators=[MaxValueValidator(30)],
        help_text="One reminder, by the link's own channel, this many days before it expires; 0: no reminder.",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = verbose_name_plural = "messaging settings"
        constraints = [
            models.CheckConstraint(
                name="messaging_settings_reminder_days", condition=Q(reminder_days_before_expiry__lte=30)
            )
        ]

    def __str__(self) -> str:
        return f"Messaging settings of {self.clinic}"

    @classmethod
    def for_clinic(cls, clinic: Clinic) -> "MessagingSettings":
        """The clinic's settings; the defaults (unsaved) when an admin has not changed any."""
        try:
            return clinic.messaging_settings
        except cls.DoesNotExist:
            return cls(clinic=clinic)
