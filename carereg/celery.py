"""The Celery app. With no broker configured (CELERY_BROKER_URL unset) tasks run in-process."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carereg.settings")

app = Celery("carereg")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
