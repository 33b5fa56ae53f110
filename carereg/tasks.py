"""How CareReg's Celery tasks are declared and queued.

Tasks take ids and re-check state when they run. They are queued only after the transaction
that made them necessary commits, and queuing never fails a user's save: what a task must do
is recorded in the database first (registry/outbox.py), so if the broker is down the work is
logged as delayed and the next sweep does it.
"""

import logging
import sqlite3

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from sqlalchemy.engine import make_url

from carereg.celery import app

log = logging.getLogger(__name__)

# Retry what a restart of PostgreSQL or a lost connection causes, a few times, backing off
# (1, 2, 4, 8, 16 s at most, jittered); past that the sweep does the work once it is back.
TASK_OPTIONS = {
    "acks_late": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 5,
    "ignore_result": True,
}


def task(func):
    return app.task(**TASK_OPTIONS)(func)


def queue_on_commit(task_function, *args) -> None:
    """Queue the task after the current transaction commits (at once if there is none)."""
    transaction.on_commit(lambda: _send(task_function, *args))


def _send(task_function, *args) -> None:
    try:
        task_function.delay(*args)
    except Exception as error:  # the broker is unreachable: the save stands, the job runs later
        log.warning("Could not queue %s%s (%s); the next sweep will do it.", task_function.name, args, error)


@task
def prune_embedded_broker() -> None:
    """Delete the messages the embedded broker has delivered: kombu's SQLAlchemy transport
    marks a delivered message invisible and keeps it. A delivered message is in a worker's
    hands (and what it must do is in the outbox), never delivered again: nothing needs it."""
    if not settings.CAREREG_EMBEDDED_BROKER:
        return
    path = make_url(settings.CELERY_BROKER_URL.removeprefix("sqla+")).database
    if not path:  # an in-memory broker keeps nothing to prune
        return
    with sqlite3.connect(path, timeout=30) as broker:
        deleted = broker.execute("DELETE FROM kombu_message WHERE visible = 0").rowcount
    broker.close()
    log.info("Embedded broker: %s delivered messages deleted", deleted)
