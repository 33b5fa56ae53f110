"""How CareReg's Celery tasks are declared and queued.

Tasks take ids and re-check state when they run. They are queued only after the transaction
that made them necessary commits, and queuing never fails a user's save: if the broker is
down the work is logged as missed and the nightly refresh catches up.
"""

import logging

from django.db import InterfaceError, OperationalError, transaction

from carereg.celery import app

log = logging.getLogger(__name__)

# Retry what a restart of PostgreSQL or a lost connection causes, a few times, backing off.
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
        log.warning("Could not queue %s%s (%s); the next scheduled run will do it.", task_function.name, args, error)
