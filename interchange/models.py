"""Data in and out of the registry: CSV import and export (and, later, FHIR).

Each import and export run leaves an audit row: who, when, which clinics, how many rows.
Audit rows name the person by username rather than pointing at the account, and never hold
the rows' contents (names, MRNs, search text): they say what was done, not to whom.
"""

from django.db import models
from django.utils import timezone

from accounts.models import Clinic


class ImportRun(models.Model):
    class How(models.TextChoices):
        COMMAND = "command", "manage.py import_registry"
        UPLOAD = "upload", "Upload page"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    by_username = models.CharField("By", max_length=150)
    how = models.CharField(max_length=16, choices=How.choices)
    clinics = models.ManyToManyField(Clinic, related_name="+", blank=True, help_text="Clinics named in the files.")
    succeeded = models.BooleanField(help_text="All or nothing: a failed run imported nothing.")
    error_count = models.PositiveIntegerField(default=0)
    rows_read = models.PositiveIntegerField(default=0, help_text="Data rows in the files.")
    patients_created = models.PositiveIntegerField(default=0)
    episodes_created = models.PositiveIntegerField(default=0)
    episodes_present = models.PositiveIntegerField(default=0, help_text="patients.csv rows already in the registry.")
    contacts_created = models.PositiveIntegerField(default=0)
    contacts_present = models.PositiveIntegerField(default=0)
    measurements_created = models.PositiveIntegerField(default=0)
    measurements_present = models.PositiveIntegerField(default=0)
    reviews_created = models.PositiveIntegerField(default=0, help_text="Case reviews, from reviews.csv.")
    reviews_present = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        outcome = "imported" if self.succeeded else "failed"
        return f"Import by {self.by_username} on {self.at:%Y-%m-%d %H:%M} ({outcome})"


class ExportRun(models.Model):
    class How(models.TextChoices):
        COMMAND = "command", "manage.py export_registry"
        DOWNLOAD = "download", "Dashboard download"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    by_username = models.CharField("By", max_length=150)
    how = models.CharField(max_length=16, choices=How.choices)
    clinics = models.ManyToManyField(Clinic, related_name="+", blank=True, help_text="Clinics the export covered.")
    filters = models.JSONField(
        default=dict, blank=True, help_text="Caseload, status and flag chosen; whether a search narrowed it."
    )
    patient_count = models.PositiveIntegerField(help_text="Rows written: one per open episode.")

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"Export by {self.by_username} on {self.at:%Y-%m-%d %H:%M} ({self.patient_count} patients)"
