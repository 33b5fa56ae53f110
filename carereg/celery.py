"""The Celery app and its schedule. With no broker configured (CELERY_BROKER_URL unset),
tasks run in-process and nothing is scheduled: `manage.py refresh_flags` from cron does the
nightly work instead."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carereg.settings")

app = Celery("carereg")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The whole schedule, in one place, with the reason for each entry. Times are in
# settings.TIME_ZONE; per-clinic days and hours are checked inside the tasks.
app.conf.beat_schedule = {
    # Time alone makes patients overdue or not improving: nothing is saved that day, so the
    # rules must run over the whole registry each night. Saves refresh their episode at once.
    "refresh-all-flags-nightly": {
        "task": "registry.tasks.refresh_all_flags",
        "schedule": crontab(hour=2, minute=15),
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
        "schedule": crontab(minute=35),
    },
}
