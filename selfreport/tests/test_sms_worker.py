"""Scheduled links by text through a real Redis broker and a real Celery worker (a thread in
this process), as tests/test_celery_jobs.py runs the other jobs; texts go to the file backend.
"""

import pytest
from celery.worker import state as worker_state
from django.utils import timezone

from registry.models import Measurement
from selfreport import services
from selfreport.models import Delivery, Invitation, Schedule, TextConsent
from selfreport.tasks import send_scheduled_self_reports
from selfreport.tests.helpers import AUTH_TOKEN, MOBILE, answer_the_link, link_path, post_from_twilio, texting_episode
from tests.celery_worker import wait_for
from tests.factories import ClinicFactory, UserFactory

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def texts(settings, tmp_path):
    settings.SMS_BACKEND = "selfreport.sms.backends.filebased.SmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path)
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    return tmp_path


@pytest.fixture
def scheduled_by_text(texts):
    """A patient on a fortnightly schedule by text; made before the worker starts (SQLite)."""
    clinic = ClinicFactory(code="north")
    care_manager = UserFactory(username="maria", clinics=[clinic])
    episode = texting_episode(clinic, care_manager)
    services.set_schedule(
        episode=episode, every_days=14, instruments=["PHQ9"], language="en", channel="sms", by=care_manager
    )
    return episode


def tasks_done() -> int:
    return sum(worker_state.total_count.values())


def test_worker_texts_the_scheduled_link_once_and_stop_stops_the_next(client, texts, scheduled_by_text, worker):
    episode = scheduled_by_text
    runs = tasks_done()

    send_scheduled_self_reports.delay()
    send_scheduled_self_reports.delay()
    # two runs of the job and one text task: the second run found the link already waiting
    assert wait_for(lambda: tasks_done() >= runs + 3 and len(list(texts.iterdir())) == 1)
    (sent,) = texts.iterdir()
    text = sent.read_text()
    before = tasks_done()
    answered = answer_the_link(client, link_path(text), [1, 1, 1, 1, 1, 1, 1, 1, 0])
    # The score queued its episode's flag refresh: let the worker finish it (SQLite has one writer).
    assert wait_for(lambda: tasks_done() >= before + 1)

    assert text.startswith(f"To: {MOBILE}\n")
    assert answered["Location"].endswith("/done/")
    assert Measurement.objects.get(episode=episode).total == 8
    assert Delivery.objects.get().status == "sent"
    assert Invitation.objects.get().origin == "scheduled"

    # Due again; the patient replies STOP before the job runs.
    Schedule.objects.update(next_due_on=timezone.localdate())
    assert services.due_schedules(timezone.localdate()).count() == 1
    assert post_from_twilio(client, "selfreport:sms_inbound", {"From": MOBILE, "Body": "STOP"}).status_code == 200
    runs = tasks_done()

    send_scheduled_self_reports.delay()

    assert wait_for(lambda: tasks_done() >= runs + 1)
    assert TextConsent.objects.get().source == "patient_stop"
    assert Invitation.objects.count() == 1
    assert len(list(texts.iterdir())) == 1
