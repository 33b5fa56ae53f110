"""Celery jobs of the FHIR interface (the periodic ones are scheduled in carereg/celery.py)."""

import logging

from carereg.celery import app
from carereg.tasks import TASK_OPTIONS, task
from fhirapi import bulk, smart

log = logging.getLogger(__name__)


# A clinic's whole population takes minutes, longer than the default limits allow: its own,
# still under the broker's visibility timeout (settings.CELERY_BROKER_TRANSPORT_OPTIONS).
@app.task(**TASK_OPTIONS, soft_time_limit=bulk.SOFT_TIME_LIMIT, time_limit=bulk.TIME_LIMIT)
def run_bulk_export(export_id: int) -> None:
    bulk.run_export(export_id)


@task
def tidy_bulk_exports() -> None:
    """Files past their retention deleted, stalled exports failed, lost ones queued again."""
    tidied = bulk.tidy_exports()
    for export_id in tidied.lost:
        run_bulk_export.delay(export_id)
    log.info("Bulk exports: %s expired, %s stalled, %s queued again", tidied.expired, tidied.stalled, len(tidied.lost))


@task
def forget_expired_smart_tokens() -> None:
    tokens, assertions = smart.forget_expired()
    log.info("Forgot %s expired access tokens and %s used assertions", tokens, assertions)
