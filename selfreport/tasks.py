"""The job that sends scheduled questionnaire links (scheduled in carereg/celery.py)."""

import logging

from django.utils import timezone

from carereg.tasks import task
from selfreport import services

log = logging.getLogger(__name__)


@task
def send_scheduled_self_reports() -> None:
    sent = services.send_due(timezone.localdate())
    log.info("Scheduled self-report links sent: %s", sent)
