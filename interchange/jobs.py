"""Background imports: an upload too large for the request, imported by a Celery worker
(docs/data-formats.md#large-imports).

The web request stores the files in CAREREG_IMPORT_DIR/<job id>/ (the folder only the app's
user may read) and queues the job's id; the worker imports them all or nothing, as the upload
page would, and deletes the folder whatever the outcome. The import holds one transaction
until it ends, so its progress cannot be a database row others read: the worker writes it to
progress.json in the same folder, which the status page reads until the job has finished.
"""

import datetime
import json
import logging
import os
import shutil
import zoneinfo
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from interchange.importer import ImportResult, import_registry
from interchange.importing.columns import FILES
from interchange.models import ImportJob, ImportRun

log = logging.getLogger(__name__)
PROGRESS_FILE = "progress.json"
# A job not finished this long after its upload was lost (its message, or a worker killed
# past its retries): longer than the task's hard time limit plus the broker's visibility timeout.
ABANDONED_AFTER = datetime.timedelta(hours=3)


def folder_of(job_id: int) -> Path:
    return Path(settings.CAREREG_IMPORT_DIR) / str(job_id)


def store_upload(*, files: dict[str, bytes], by, rows: int) -> ImportJob:
    """The job, with its files waiting in its folder for the worker."""
    job = ImportJob.objects.create(by=by, rows_total=rows, time_zone=timezone.get_current_timezone_name())
    folder = folder_of(job.pk)
    folder.mkdir(mode=0o700, parents=True)
    for name, data in files.items():
        _write_private(folder / name, data)
    return job


def _write_private(path: Path, data: bytes) -> None:
    """Written readable by the app's user only, and whole: a half-written file is never read."""
    partial = path.with_suffix(".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    os.replace(partial, path)


def run_job(job_id: int) -> None:
    """Import the job's files (the worker's part); nothing again for a job already finished."""
    claimed = ImportJob.objects.filter(pk=job_id, status__in=[ImportJob.Status.QUEUED, ImportJob.Status.RUNNING])
    if not claimed.update(status=ImportJob.Status.RUNNING):
        return
    job = ImportJob.objects.select_related("by").get(pk=job_id)
    folder = folder_of(job_id)
    try:
        files = {name: (folder / name).read_bytes() for name in FILES if (folder / name).is_file()}
        if not files:
            fail(job_id, "The uploaded files are gone: nothing was imported. Upload them again.")
            return
        with timezone.override(zoneinfo.ZoneInfo(job.time_zone)):
            result = import_registry(
                files=files, by=job.by, how=ImportRun.How.UPLOAD, progress=lambda *at: save_progress(folder, *at)
            )
        _finish(job, result)
    except Exception:  # a time limit, a lost database: all or nothing, so nothing was kept
        log.exception("Background import %s stopped", job_id)
        fail(job_id, "The import stopped on an error before it finished: nothing was imported. Upload the files again.")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _finish(job: ImportJob, result: ImportResult) -> None:
    job.status = ImportJob.Status.SUCCEEDED if result.succeeded else ImportJob.Status.FAILED
    job.summary = result.summary()
    job.errors = result.listed_errors
    job.error_count = len(result.errors)
    job.run_id = result.run_id
    job.finished_at = timezone.now()
    job.save()


def fail(job_id: int, message: str) -> None:
    """The job ends without importing anything, its files deleted."""
    ImportJob.objects.filter(pk=job_id).exclude(
        status__in=[ImportJob.Status.SUCCEEDED, ImportJob.Status.FAILED]
    ).update(
        status=ImportJob.Status.FAILED,
        summary=[message],
        finished_at=timezone.now(),
    )
    shutil.rmtree(folder_of(job_id), ignore_errors=True)


def save_progress(folder: Path, stage: str, checked: int, written: int) -> None:
    _write_private(
        folder / PROGRESS_FILE, json.dumps({"stage": stage, "checked": checked, "written": written}).encode()
    )


def progress_of(job: ImportJob) -> dict | None:
    """How far a running job is: {"stage", "checked", "written"}, or None before the worker reports."""
    try:
        return json.loads((folder_of(job.pk) / PROGRESS_FILE).read_bytes())
    except (OSError, ValueError):
        return None


def purge_abandoned(now: datetime.datetime | None = None) -> int:
    """Jobs lost on the way (never finished long after upload) fail, and their files go."""
    cutoff = (now or timezone.now()) - ABANDONED_AFTER
    lost = list(
        ImportJob.objects.filter(
            status__in=[ImportJob.Status.QUEUED, ImportJob.Status.RUNNING], created_at__lt=cutoff
        ).values_list("pk", flat=True)
    )
    for job_id in lost:
        fail(job_id, "The import was not finished by a worker: nothing was imported. Upload the files again.")
    return len(lost)
