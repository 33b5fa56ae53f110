"""The Celery app and its schedule.

The broker is Redis in production (CELERY_BROKER_URL); with none configured it is the
embedded default, a SQLite file beside the database read by kombu's SQLAlchemy transport, so
`make run` runs the same worker and beat with no server (docs/deployment.md#the-embedded-default).
"""

import os

from celery import Celery
from celery.schedules import crontab
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carereg.settings")

app = Celery("carereg")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def beat_schedule() -> dict:
    """The whole schedule, in one place, with the reason for each entry. Times are in
    settings.TIME_ZONE; per-clinic days and hours are checked inside the tasks."""
    schedule = {
        # Time alone makes patients overdue or not improving: nothing is saved that day, so the
        # rules must run over the whole registry each night. Saves refresh their episode at once.
        "refresh-all-flags-nightly": {
            "task": "registry.tasks.refresh_all_flags",
            "schedule": crontab(hour=2, minute=15),
        },
        # The flag refreshes that a lost message, a task that gave up or a dead worker left
        # pending (registry/outbox.py): flags are true within this interval after any fault.
        "drain-flag-refreshes": {
            "task": "registry.tasks.drain_flag_refreshes",
            "schedule": float(settings.CAREREG_FLAG_SWEEP_SECONDS),
        },
        # Each clinic chooses the weekday and hour its caseload review agenda is built; checking
        # hourly builds it within the hour chosen, and building twice changes nothing.
        "build-due-review-agendas-hourly": {
            "task": "consults.tasks.build_due_agendas",
            "schedule": crontab(minute=5),
        },
        # Patients on a self-report schedule get their next questionnaire link in the morning;
        # a second run the same day sends nothing (the first moved the due date on).
        "scheduled-self-report-links": {
            "task": "selfreport.tasks.send_scheduled_self_reports",
            "schedule": crontab(hour=8, minute=30),
        },
        # Care managers start the day knowing how many new flags wait for them.
        "morning-flag-digest": {
            "task": "registry.tasks.send_flag_digests",
            "schedule": crontab(hour=7, minute=0),
        },
        # Texts held through a clinic's quiet hours go out within minutes of their end, reminders
        # within minutes of being due, and a retry or a message queued while Redis was down is
        # picked up; a run sends nothing twice (each message is sent once, under a row lock).
        "self-report-messages-due": {
            "task": "selfreport.tasks.send_due_messages",
            "schedule": crontab(minute="*/5"),
        },
        # An uploaded file waiting for a worker holds patient data: a background import lost on
        # the way (its message or its worker) is failed and its files deleted within the hour.
        "purge-abandoned-imports-hourly": {
            "task": "interchange.tasks.purge_abandoned_imports",
            "schedule": crontab(minute=35),
        },
        # Bulk export files hold a clinic's population: each is deleted once its retention
        # (CAREREG_BULK_EXPORT_RETENTION_HOURS) is over; the same run fails exports whose worker
        # died and queues again any the broker lost. Hourly keeps a file at most an hour over.
        "tidy-bulk-exports-hourly": {
            "task": "fhirapi.tasks.tidy_bulk_exports",
            "schedule": crontab(minute=25),
        },
        # SMART access tokens live minutes and a used assertion's jti need only be kept until the
        # assertion expires: the rows past that are deleted so the tables stay small.
        "forget-expired-smart-tokens-hourly": {
            "task": "fhirapi.tasks.forget_expired_smart_tokens",
            "schedule": crontab(minute=45),
        },
    }
    if settings.CAREREG_EMBEDDED_BROKER:
        # The SQLAlchemy transport keeps every delivered message; its file would grow forever.
        schedule["prune-embedded-broker-hourly"] = {
            "task": "carereg.tasks.prune_embedded_broker",
            "schedule": crontab(minute=40),
        }
    return schedule


@app.on_after_configure.connect
def _set_schedule(sender: Celery, **kwargs) -> None:
    # Built once Django's settings are loaded, not at import: loading them imports this package.
    sender.conf.beat_schedule = beat_schedule()
