"""Data in and out of the registry: CSV import and export (and, later, FHIR).

Each import and export run leaves an audit row: who, when, which clinics, how many rows.
Audit rows name the person by username rather than pointing at the account, and never hold
the rows' contents (names, MRNs, search text): they say what was done, not to whom.
"""

from django.conf import settings
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


class ImportJobQuerySet(models.QuerySet):
    def visible_to(self, user) -> "ImportJobQuerySet":
        """An upload's page is its uploader's (its errors name MRNs); a superuser sees them all."""
        return self if user.is_superuser else self.filter(by=user)


class ImportJob(models.Model):
    """An upload too large to import inside the request, imported by a Celery worker.

    The files wait in CAREREG_IMPORT_DIR/<id>/ (never in the broker's message, which holds the
    id only) until the worker has imported them, and are deleted then. While it runs, its
    progress is a file beside them (interchange/jobs.py); the outcome is kept here.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Importing"
        SUCCEEDED = "succeeded", "Imported"
        FAILED = "failed", "Nothing imported"

    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    time_zone = models.CharField(max_length=64, help_text="The uploader's clinic's zone: 'today' for the dates.")
    rows_total = models.PositiveIntegerField(help_text="Data rows in the files.")
    summary = models.JSONField(default=list, blank=True, help_text="What was created and found present.")
    errors = models.JSONField(default=list, blank=True, help_text="The first errors, as the upload page lists them.")
    error_count = models.PositiveIntegerField(default=0)
    run = models.OneToOneField(ImportRun, on_delete=models.PROTECT, null=True, blank=True, related_name="job")

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Background import {self.pk} by {self.by} ({self.get_status_display().lower()})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def unlisted_error_count(self) -> int:
        return max(self.error_count - len(self.errors), 0)
