"""The flag-refresh outbox: a request exists exactly when its change does, a refresh is counted
done only if nothing changed meanwhile, and a dead worker's claim is taken over after its lease."""

import datetime
import sqlite3
import uuid

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from kombu import Connection

from carereg.tasks import prune_embedded_broker
from registry import outbox
from registry.flags import refresh_flags
from registry.models import Flag, FlagRefreshRequest
from registry.services import queue_full_flag_refresh
from tests.factories import EpisodeFactory, PatientFactory, UserFactory, record_contact

pytestmark = pytest.mark.django_db


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


@pytest.fixture
def overdue(clinic):
    """An active episode last seen 20 days ago, never measured, whose flags no refresh has
    brought up to date."""
    care_manager = UserFactory(username="maria", clinics=[clinic])
    episode = EpisodeFactory(patient=PatientFactory(clinic=clinic, care_manager=care_manager), enrolled_on=days_ago(60))
    record_contact(episode, days_ago(40), care_manager, kind="initial_assessment")
    record_contact(episode, days_ago(20), care_manager)
    Flag.objects.all().delete()
    return episode, care_manager


def open_kinds(episode) -> set[str]:
    return set(Flag.objects.filter(episode=episode, resolved_at__isnull=True).values_list("kind", flat=True))


def test_a_save_records_its_refresh_in_its_own_transaction(overdue):
    episode, care_manager = overdue
    FlagRefreshRequest.objects.all().delete()

    with transaction.atomic():
        record_contact(episode, days_ago(0), care_manager)
        assert FlagRefreshRequest.objects.filter(episode=episode).exists()
        transaction.set_rollback(True)  # the save fails: nothing is left to refresh

    assert not FlagRefreshRequest.objects.exists()
    record_contact(episode, days_ago(0), care_manager)
    assert FlagRefreshRequest.objects.filter(episode=episode).count() == 1  # one row per episode


def test_drain_refreshes_what_is_pending_once(overdue):
    episode, _ = overdue
    outbox.request_refresh([episode.pk])

    assert outbox.drain() == 1
    assert open_kinds(episode) == {"new_patient", "followup_overdue", "measurement_overdue"}
    assert not FlagRefreshRequest.objects.exists()
    assert outbox.drain() == 0


def test_a_request_renewed_during_a_refresh_outlives_it(overdue):
    episode, _ = overdue
    outbox.request_refresh([episode.pk])
    claim = outbox._claim(outbox.Q(episode_id=episode.pk))

    outbox.request_refresh([episode.pk])  # a save commits while the claimed refresh runs
    assert outbox._complete(claim) == 0

    assert FlagRefreshRequest.objects.get(episode=episode).claim is None  # free for the next drain
    assert outbox.drain() == 1


def test_a_live_claim_is_left_alone_and_a_dead_workers_claim_is_taken_over(overdue):
    episode, _ = overdue
    outbox.request_refresh([episode.pk])
    outbox._claim(outbox.Q(episode_id=episode.pk))  # a worker claims it, then dies

    assert outbox.drain() == 0  # within the lease, nobody else touches it
    assert open_kinds(episode) == set()

    FlagRefreshRequest.objects.update(claimed_until=timezone.now() - datetime.timedelta(seconds=1))
    assert outbox.drain() == 1
    assert open_kinds(episode) == {"new_patient", "followup_overdue", "measurement_overdue"}


def test_a_whole_registry_request_answers_the_episode_requests_made_before_it(overdue):
    episode, _ = overdue
    other = EpisodeFactory(patient=PatientFactory(clinic=episode.patient.clinic), enrolled_on=days_ago(60))
    Flag.objects.all().delete()
    outbox.request_refresh([episode.pk])
    outbox.request_full_refresh()

    assert outbox.drain() == 2

    assert not FlagRefreshRequest.objects.exists()
    assert "new_patient" in open_kinds(other)  # refreshed although only the registry asked
    assert refresh_flags().changed == 0


def test_a_full_refresh_asked_for_by_a_settings_change_is_recorded_in_its_transaction(
    overdue, django_capture_on_commit_callbacks
):
    FlagRefreshRequest.objects.all().delete()

    with transaction.atomic():
        queue_full_flag_refresh()
        transaction.set_rollback(True)
    assert not FlagRefreshRequest.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        queue_full_flag_refresh()  # committed: its message runs in-process here (tests)
    assert not FlagRefreshRequest.objects.exists()
    assert open_kinds(overdue[0]) == {"new_patient", "followup_overdue", "measurement_overdue"}


def test_the_embedded_broker_is_pruned_of_delivered_messages(tmp_path, settings):
    url = f"sqla+sqlite:///{tmp_path / 'celery-broker.sqlite3'}"
    name = f"prune-{uuid.uuid4().hex[:8]}"
    with Connection(url) as connection:
        queue = connection.SimpleQueue(name)
        queue.put({"n": 1})
        queue.put({"n": 2})
        queue.get(timeout=5).ack()  # delivered: kept, marked invisible
        queue.close()

    with override_settings(CELERY_BROKER_URL=url, CAREREG_EMBEDDED_BROKER=True):
        prune_embedded_broker()

    with sqlite3.connect(tmp_path / "celery-broker.sqlite3") as broker:
        assert broker.execute("SELECT count(*) FROM kombu_message").fetchone() == (1,)
    with Connection(url) as connection:
        queue = connection.SimpleQueue(name)
        assert queue.qsize() == 1  # the message not yet delivered stays
        assert queue.get(timeout=5).payload == {"n": 2}
        queue.close()
