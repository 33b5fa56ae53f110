"""The jobs that send questionnaire links and their reminders (scheduled in carereg/celery.py).

The task that sends one text, send_text_message, lives beside the sending it runs
(selfreport/messaging.py) and is registered from there.
"""

import logging

from django.utils import timezone

from carereg.tasks import task
from selfreport import messaging, services

log = logging.getLogger(__name__)


@task
def send_scheduled_self_reports() -> None:
    sent = services.send_due(timezone.localdate())
    log.info("Scheduled self-report links sent: %s", sent)


@task
def send_due_messages() -> None:
    """Reminders now due, and messages whose wait is over (quiet hours, a retry, a missed queue)."""
    now = timezone.now()
    reminders = messaging.create_due_reminders(now)
    due = messaging.send_due(now)
    log.info("Self-report reminders made: %s; messages due sent or queued: %s", reminders, due)
