"""The dashboard's figure cards are counted once and kept until a write changes them."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from patients import services as patient_services
from patients.models import Episode
from registry.figures_cache import figures_changed
from tests.factories import EpisodeFactory, UserFactory, record_contact

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("registry:dashboard")


def figure(html: str, name: str) -> str:
    return re.search(rf'data-stat="{name}">([^<]*)<', html).group(1)


def dashboard(client) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(DASHBOARD)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


@pytest.fixture
def episodes(clinic, care_manager):
    return [EpisodeFactory(patient__clinic=clinic, patient__care_manager=care_manager) for _ in range(3)]


def test_figures_are_counted_once_and_say_when(cm_client, episodes):
    cm_client.get(DASHBOARD)
    first, _ = dashboard(cm_client)
    figures_changed()
    _, recounted = dashboard(cm_client)
    again, kept = dashboard(cm_client)

    assert kept == recounted - 5  # the figure cards' aggregate and the caseload size box's four
    assert figure(again, "active") == figure(first, "active") == "3"
    as_of = timezone.localtime().strftime("%H:")
    assert re.search(rf"data-figures-as-of>Figures as of {as_of}\d\d: counted again after every change", again)


def test_a_recorded_contact_shows_in_the_figures_at_once(cm_client, episodes, care_manager):
    before, _ = dashboard(cm_client)

    record_contact(episodes[0], timezone.localdate(), care_manager)
    after, _ = dashboard(cm_client)

    assert figure(before, "contacted") == "0%"
    assert figure(after, "contacted") == "33%"


def test_a_discharge_shows_in_the_figures_at_once(cm_client, episodes, care_manager):
    dashboard(cm_client)
    episode = episodes[0]
    patient_services.change_status(
        episode=episode,
        status=Episode.Status.DISCHARGED,
        on=episode.enrolled_on,
        by=care_manager,
        discharge_reason=Episode.DischargeReason.MOVED,
    )

    after, _ = dashboard(cm_client)

    assert figure(after, "active") == "2"


def test_a_patient_given_to_another_care_manager_leaves_the_figures_at_once(cm_client, clinic, episodes):
    dashboard(cm_client)
    patient = episodes[0].patient
    patient.care_manager = UserFactory(clinics=[clinic])
    patient.save()

    after, _ = dashboard(cm_client)

    assert figure(after, "active") == "2"


def test_a_new_patient_shows_in_the_caseload_size_at_once(cm_client, clinic, care_manager, episodes):
    before, _ = dashboard(cm_client)

    EpisodeFactory(patient__clinic=clinic, patient__care_manager=care_manager)
    after, _ = dashboard(cm_client)

    assert "My caseload size:</strong> 3 patients" in before
    assert "My caseload size:</strong> 4 patients" in after
