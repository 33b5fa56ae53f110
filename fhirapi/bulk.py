"""FHIR Bulk Data export, the work itself: a clinic's patients and scores written as NDJSON
files, one per resource type (docs/fhir.md#bulk-export).

Memory stays the same whatever the population: rows are read with `.iterator()` in chunks
(a server-side cursor on PostgreSQL) and each resource is written as one line as soon as it
is made; nothing holds a list of rows. Between chunks the export's row is updated with its
progress, which is also how a cancellation is seen: the update finds the export no longer
running and the work stops, its files deleted.
"""

import datetime
import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils import timezone

from fhirapi import codes, resources
from fhirapi.models import BulkExport, BulkExportFile
from patients.models import Patient
from registry.models import ITEM_FIELDS, Measurement

log = logging.getLogger(__name__)

EXPORT_TYPES = ("Patient", "Observation", "QuestionnaireResponse")
CHUNK = 2000
# The export task's time limits (fhirapi/tasks.py), under the broker's visibility timeout.
SOFT_TIME_LIMIT, TIME_LIMIT = 3000, 3300
# An export still running after the task's hard time limit was stopped with its worker.
STALLED_AFTER = datetime.timedelta(seconds=TIME_LIMIT + 60)
# A queued export no worker has started after this was lost with its queue message.
LOST_AFTER = datetime.timedelta(minutes=10)


# What resources.observation and questionnaire_response read of a score: loading only these
# makes each row about a third cheaper to build.
SERVED_FIELDS = (
    "id",
    "instrument",
    "taken_on",
    "created_at",
    "total",
    "band",
    "total_only",
    "source",
    "difficulty",
    *ITEM_FIELDS[: max(i.item_count for i in codes.FHIR_INSTRUMENTS.values())],
)


class Cancelled(Exception):
    """The export was cancelled (DELETE on its status URL) while it ran."""


def export_directory(export: BulkExport) -> Path:
    return Path(settings.CAREREG_BULK_EXPORT_DIR) / str(export.pk)


def file_path(export: BulkExport, name: str) -> Path:
    return export_directory(export) / name


def run_export(export_id: int) -> None:
    """Write the export's files. Only a queued export is started, and only by one worker: the
    claim is a single UPDATE, so a task delivered twice does the work once."""
    now = timezone.now()
    claimed = BulkExport.objects.filter(pk=export_id, status=BulkExport.Status.QUEUED).update(
        status=BulkExport.Status.RUNNING, transaction_time=now, progress="Starting"
    )
    if not claimed:
        return
    export = BulkExport.objects.select_related("clinic").get(pk=export_id)
    directory = export_directory(export)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        for position, resource_type in enumerate(export.resource_types, start=1):
            _write_type(export, resource_type, f"{resource_type} ({position} of {len(export.resource_types)})")
    except Cancelled:
        delete_files(export)
        return
    except Exception as error:
        log.exception("Bulk export %s failed", export.pk)
        delete_files(export)
        BulkExport.objects.filter(pk=export.pk, status=BulkExport.Status.RUNNING).update(
            status=BulkExport.Status.FAILED, finished_at=timezone.now(), error=type(error).__name__
        )
        return
    finished = timezone.now()
    done = BulkExport.objects.filter(pk=export.pk, status=BulkExport.Status.RUNNING).update(
        status=BulkExport.Status.COMPLETED,
        progress="Done",
        finished_at=finished,
        expires_at=finished + datetime.timedelta(hours=settings.CAREREG_BULK_EXPORT_RETENTION_HOURS),
    )
    if not done:  # cancelled after the last chunk
        delete_files(export)


@dataclass
class _Writer:
    """Lines into one file, counting them; the progress is reported every CHUNK lines."""

    export: BulkExport
    label: str
    count: int = 0

    def report(self) -> None:
        progress = f"{self.label}: {self.count:,} resources written"
        if not BulkExport.objects.filter(pk=self.export.pk, status=BulkExport.Status.RUNNING).update(
            progress=progress[:100]
        ):
            raise Cancelled


def _write_type(export: BulkExport, resource_type: str, label: str) -> None:
    name = f"{resource_type}.ndjson"
    path = file_path(export, name)
    writer = _Writer(export, label)
    # Readable by the application's user only: the file holds PHI.
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as out:
        for resource in _resources(export, resource_type):
            out.write(json.dumps(resource, separators=(",", ":")))
            out.write("\n")
            writer.count += 1
            if writer.count % CHUNK == 0:
                writer.report()
    writer.report()
    if writer.count == 0:  # the manifest lists no empty files
        path.unlink()
        return
    BulkExportFile.objects.create(
        export=export, resource_type=resource_type, name=name, count=writer.count, size=path.stat().st_size
    )


def _resources(export: BulkExport, resource_type: str):
    """The resources of one type, one at a time, from rows read in chunks."""
    clinic = export.clinic
    if resource_type == "Patient":
        for patient in _changed(patients_of(export), export).iterator(chunk_size=CHUNK):
            yield resources.patient(patient, clinic)
        return
    rows = _changed(measurements_of(export), export).only(*SERVED_FIELDS)
    if resource_type == "Observation":
        for measurement in rows.iterator(chunk_size=CHUNK):
            yield resources.observation(measurement, measurement.patient_pk)
        return
    answered = rows.filter(total_only=False).select_related("fhir_identifier")
    answered = answered.only(*SERVED_FIELDS, "fhir_identifier__system", "fhir_identifier__value")
    for measurement in answered.iterator(chunk_size=CHUNK):
        yield resources.questionnaire_response(measurement, measurement.patient_pk)


def patients_of(export: BulkExport) -> QuerySet:
    """The clinic's patients as they stood at the export's transaction time."""
    return Patient.objects.filter(clinic=export.clinic, created_at__lte=export.transaction_time).order_by("pk")


def measurements_of(export: BulkExport) -> QuerySet:
    """The clinic's PHQ-9 and GAD-7 scores that count (none entered in error), as the searches
    and reads serve them."""
    return (
        Measurement.objects.valid()
        .filter(
            episode__patient__clinic=export.clinic,
            instrument__in=codes.FHIR_INSTRUMENTS,
            created_at__lte=export.transaction_time,
        )
        .annotate(patient_pk=F("episode__patient_id"))
        .order_by("pk")
    )


def _changed(rows: QuerySet, export: BulkExport) -> QuerySet:
    """With _since: only rows with a version saved after it (created or changed), as their
    history records it."""
    if export.since is None:
        return rows
    history = rows.model.history.filter(id=OuterRef("pk"), history_date__gt=export.since)
    return rows.filter(Exists(history))


def delete_files(export: BulkExport) -> None:
    shutil.rmtree(export_directory(export), ignore_errors=True)
    export.files.all().delete()


def manifest(export: BulkExport, base_url: str) -> dict:
    """The completed export's manifest (Bulk Data Access v2, "Response - Complete Status")."""
    status_url = f"{base_url}bulk-export/{export.key}"
    return {
        "transactionTime": export.transaction_time.isoformat(),
        "request": export.request_url,
        "requiresAccessToken": True,
        "output": [
            {"type": f.resource_type, "url": f"{status_url}/{f.name}", "count": f.count} for f in export.files.all()
        ],
        "error": [],
    }


@dataclass(frozen=True)
class Tidied:
    expired: int
    stalled: int
    lost: list


def tidy_exports(now: datetime.datetime | None = None) -> Tidied:
    """The hourly housekeeping, safe to run twice: files past their retention are deleted (the
    row stays, marked expired), an export whose worker died is marked failed, and the ids of
    queued exports no worker picked up are returned to be queued again (the claim in
    run_export makes a second delivery harmless)."""
    now = now or timezone.now()
    expired = 0
    for export in BulkExport.objects.filter(status=BulkExport.Status.COMPLETED, expires_at__lte=now).iterator():
        delete_files(export)
        expired += BulkExport.objects.filter(pk=export.pk, status=BulkExport.Status.COMPLETED).update(
            status=BulkExport.Status.EXPIRED
        )
    stalled_rows = BulkExport.objects.filter(
        status=BulkExport.Status.RUNNING, transaction_time__lte=now - STALLED_AFTER
    )
    for export in stalled_rows.iterator():
        delete_files(export)
    stalled = stalled_rows.update(status=BulkExport.Status.FAILED, finished_at=now, error="Stopped")
    lost = list(
        BulkExport.objects.filter(status=BulkExport.Status.QUEUED, created_at__lte=now - LOST_AFTER).values_list(
            "pk", flat=True
        )
    )
    return Tidied(expired=expired, stalled=stalled, lost=lost)
