"""The flag jobs through a real Redis broker and a real Celery worker (a thread in this process:
the `broker` and `worker` fixtures of tests/celery_worker.py)."""

import datetime
import io
import threading
import time

import pytest
from celery.worker import state as worker_state
from django.core.management import call_command
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone

from patients.models import Episode
from registry.flags import refresh_flags
from registry.models import Contact, Flag
from registry.tasks import refresh_all_flags
from tests.celery_worker import NOWHERE, use_broker, wait_for
from tests.factories import ClinicFactory, EpisodeFactory, PatientFactory, UserFactory, record_contact, record_score

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


@pytest.fixture
def overdue_episode():
    """An active patient whose last contact was 20 days ago: follow-up overdue."""
    clinic = ClinicFactory(code="north")
    care_manager = UserFactory(username="maria", clinics=[clinic])
    episode = EpisodeFactory(patient=PatientFactory(clinic=clinic, care_manager=care_manager), enrolled_on=days_ago(60))
    record_contact(episode, days_ago(40), care_manager, kind="initial_assessment")
    record_contact(episode, days_ago(20), care_manager)
    record_score(episode, "PHQ9", 12, days_ago(20), care_manager)
    return Episode.objects.get(pk=episode.pk), care_manager


def open_kinds(episode) -> set[str]:
    return set(Flag.objects.filter(episode=episode, resolved_at__isnull=True).values_list("kind", flat=True))


def post_contact(client, episode, **extra):
    data = {
        "contact_date": timezone.localdate().isoformat(),
        "kind": "follow_up",
        "with_whom": "patient",
        "mode": "phone",
        "reached": "on",
        "minutes": "20",
        **extra,
    }
    return client.post(reverse("registry:record_contact", args=[episode.patient_id]), data)


def test_contact_saved_in_the_web_app_brings_the_flags_up_to_date_through_the_worker(client, overdue_episode, worker):
    episode, care_manager = overdue_episode
    refresh_flags()
    assert "followup_overdue" in open_kinds(episode)
    client.force_login(care_manager)

    response = post_contact(client, episode)

    assert response.status_code == 302, response.content.decode()[:3000]
    assert wait_for(lambda: "followup_overdue" not in open_kinds(episode)), open_kinds(episode)
    resolved = Flag.objects.get(episode=episode, kind="followup_overdue")
    assert resolved.resolved_by is None
    assert resolved.resolution_note.startswith("Resolved automatically")
    assert open_kinds(episode) == {"new_patient"}


def test_web_app_saves_and_raises_safety_flag_with_the_broker_down_and_the_next_run_catches_up(
    client, overdue_episode, broker
):
    episode, care_manager = overdue_episode
    assert open_kinds(episode) == {"followup_overdue", "new_patient"}
    use_broker(NOWHERE)
    client.force_login(care_manager)
    item9 = {f"phq9-item_{n}": "1" for n in range(1, 10)}

    started = time.monotonic()
    response = post_contact(client, episode, **item9)
    seconds = time.monotonic() - started

    assert response.status_code == 302
    assert seconds < 5
    assert Contact.objects.filter(episode=episode, contact_date=timezone.localdate()).exists()
    # The safety flag is raised at save, in the same transaction; the refresh that would
    # resolve "follow-up overdue" could not be queued...
    assert open_kinds(episode) == {"safety", "followup_overdue", "new_patient"}
    # ...and the next run (nightly, or cron's refresh_flags) catches up.
    call_command("refresh_flags", stdout=io.StringIO())
    assert open_kinds(episode) == {"safety", "new_patient"}


def test_nightly_refresh_task_run_by_the_worker_raises_the_time_based_flags(overdue_episode, worker):
    episode, _ = overdue_episode
    Flag.objects.filter(episode=episode).delete()  # as if the saves' refreshes had never run

    refresh_all_flags.delay()

    assert wait_for(lambda: open_kinds(episode) == {"followup_overdue", "new_patient"}), open_kinds(episode)


def _refresh_retrying_like_the_task() -> None:
    """As the Celery task does (autoretry on OperationalError): SQLite serialises writers."""
    try:
        for _ in range(50):
            try:
                refresh_flags()
                return
            except OperationalError:
                time.sleep(0.05)
        raise AssertionError("refresh never got the database")
    finally:
        connection.close()


def test_two_refreshes_at_once_raise_each_flag_once(overdue_episode):
    episode, _ = overdue_episode
    start = threading.Barrier(2)

    def run():
        start.wait()
        _refresh_retrying_like_the_task()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    kinds = list(Flag.objects.filter(episode=episode, resolved_at__isnull=True).values_list("kind", flat=True))
    assert sorted(kinds) == ["followup_overdue", "new_patient"]
    raised = Flag.history.filter(episode_id=episode.pk, history_type="+").values_list("id", flat=True)
    assert len(raised) == len(set(raised)) == Flag.objects.filter(episode=episode).count()


@pytest.fixture
def scheduled_episode(overdue_episode):
    """The overdue patient, in active treatment, on a fortnightly self-report schedule.

    Set up before the worker starts: on SQLite a write from the test thread while the worker's
    connection is busy can find the database locked.
    """
    from selfreport import services as self_report

    episode, care_manager = overdue_episode
    Episode.objects.filter(pk=episode.pk).update(status=Episode.Status.ACTIVE)
    episode.patient.email = "patient@example.org"
    episode.patient.save()
    self_report.set_schedule(episode=episode, every_days=14, instruments=["PHQ9"], language="en", by=care_manager)
    return episode


def test_worker_sends_scheduled_self_report_links_once(scheduled_episode, worker, mailoutbox):
    """The beat's morning job, run by the worker twice: one link, one e-mail."""
    from selfreport.models import Invitation
    from selfreport.tasks import send_scheduled_self_reports

    runs = sum(worker_state.total_count.values())

    send_scheduled_self_reports.delay()
    send_scheduled_self_reports.delay()

    assert wait_for(lambda: sum(worker_state.total_count.values()) >= runs + 2)
    assert Invitation.objects.filter(episode=scheduled_episode, origin="scheduled").count() == 1
    assert [message.to for message in mailoutbox] == [["patient@example.org"]]
