"""Clinics and the staff who work in them.

A separate app because who may see what (clinic membership and role) is a boundary every
other app depends on, and the custom user model has to exist before any other migration.
"""

import zoneinfo
from decimal import Decimal

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a time zone name such as America/Los_Angeles.")


class Clinic(models.Model):
    class Population(models.TextChoices):
        # AIMS Center caseload-size guidance (docs/clinical-definitions.md#caseload-size)
        COMMERCIAL = "commercial", "Commercially insured, good supports"
        MEDICAID = "medicaid", "Medicaid/uninsured, limited supports"

    code = models.SlugField(max_length=32, unique=True, help_text="Short code used in imports and URLs.")
    name = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64, default="America/Los_Angeles", validators=[validate_timezone])
    population = models.CharField(max_length=16, choices=Population.choices, default=Population.COMMERCIAL)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Role(models.TextChoices):
    CARE_MANAGER = "care_manager", "Care manager"
    PSYCHIATRIC_CONSULTANT = "psychiatric_consultant", "Psychiatric consultant"
    MEDICAL_PROVIDER = "medical_provider", "Medical provider (PCP)"
    CLINIC_ADMIN = "clinic_admin", "Clinic admin / data manager"


class User(AbstractUser):
    role = models.CharField(max_length=32, choices=Role.choices, blank=True)
    fte = models.DecimalField(
        "FTE",
        max_digits=3,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Care managers only: 1.00 is full time; scales the recommended caseload size.",
    )
    clinics = models.ManyToManyField(Clinic, related_name="staff", blank=True)
    # Sessions begun before this moment end at their next request (accounts.sessions): set
    # when the account is deactivated and when its two-factor devices are reset.
    sessions_valid_after = models.DateTimeField(null=True, blank=True, editable=False)
    # The history leaves out the password hash (an offline guess at it needs nothing else) and
    # the time of the last login (the sign-in logs keep logins; here each would be a version).
    history = HistoricalRecords(m2m_fields=[clinics], excluded_fields=["password", "last_login"])

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="user_fte_range",
                condition=Q(fte__isnull=True) | Q(fte__gt=Decimal("0"), fte__lte=Decimal("1.5")),
            ),
            models.CheckConstraint(
                name="user_fte_only_for_care_managers",
                condition=Q(fte__isnull=True) | Q(role=Role.CARE_MANAGER),
            ),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def save(self, *args, **kwargs):
        # Deactivating an account logs it out everywhere, by whatever path it is saved (the
        # admin, a script): its sessions end at their next request, and stay ended if the
        # account is made active again later.
        update_fields = kwargs.get("update_fields")
        if (
            not self._state.adding
            and not self.is_active
            and (update_fields is None or "is_active" in update_fields)
            and type(self)._default_manager.filter(pk=self.pk, is_active=True).exists()
        ):
            self.sessions_valid_after = timezone.now()
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "sessions_valid_after"}
        # A login saves last_login alone, which the history leaves out: no version for it.
        login_only = update_fields is not None and set(update_fields) <= {"last_login"}
        if not login_only or hasattr(self, "skip_history_when_saving"):
            super().save(*args, **kwargs)
            return
        self.skip_history_when_saving = True  # simple-history's own switch
        try:
            super().save(*args, **kwargs)
        finally:
            del self.skip_history_when_saving

    def end_sessions(self) -> None:
        """End every session of this account at its next request."""
        self.sessions_valid_after = timezone.now()
        self.save(update_fields=["sessions_valid_after"])

    @property
    def is_care_manager(self) -> bool:
        return self.role == Role.CARE_MANAGER

    @property
    def is_consultant(self) -> bool:
        return self.role == Role.PSYCHIATRIC_CONSULTANT

    @property
    def is_medical_provider(self) -> bool:
        return self.role == Role.MEDICAL_PROVIDER

    @property
    def is_clinic_admin(self) -> bool:
        return self.role == Role.CLINIC_ADMIN

    def visible_clinics(self) -> models.QuerySet:
        if self.is_superuser:
            return Clinic.objects.all()
        return self.clinics.all()
