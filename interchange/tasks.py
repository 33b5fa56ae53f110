"""The background import's Celery tasks (docs/data-formats.md#large-imports).

The message holds the job's id only: the files and everything in them stay on the app's disk.
"""

import logging

from django.db import transaction

from carereg.celery import app
from carereg.tasks import task
from interchange import jobs

log = logging.getLogger(__name__)

# As carereg.tasks.TASK_OPTIONS but without retries (a failed import kept nothing and says so;
# the uploader sends the files again) and with longer limits (50,000 rows at 35 a second take
# about 24 minutes), still under the broker's visibility timeout of an hour, so a live task is
# never handed to a second worker; a worker killed mid-import has its message handed on, and
# the import is done again from the files still there.
IMPORT_OPTIONS = {"acks_late": True, "ignore_result": True, "soft_time_limit": 2700, "time_limit": 3000}


@app.task(**IMPORT_OPTIONS)
def run_import_job(job_id: int) -> None:
    jobs.run_job(job_id)


@task
def purge_abandoned_imports() -> None:
    log.info("Abandoned background imports failed and their files deleted: %s", jobs.purge_abandoned())


def queue_import(job_id: int) -> None:
    """Queue the job once the upload's transaction commits; if the broker cannot take it, the job
    fails at once (its files deleted) rather than wait for a worker that will never hear of it."""
    transaction.on_commit(lambda: _send(job_id))


def _send(job_id: int) -> None:
    try:
        run_import_job.delay(job_id)
    except Exception as error:
        log.warning("Could not queue background import %s (%s)", job_id, error)
        jobs.fail(job_id, "The background worker could not be reached: nothing was imported. Upload the files again.")
