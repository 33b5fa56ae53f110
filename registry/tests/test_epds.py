"""The EPDS (docs/clinical-definitions.md#epds): scoring against Cox et al. 1987's cut-offs,
item 10's safety rule through the real service, the form, the chart and a CSV import row."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from interchange.importer import import_registry
from interchange.tests.builders import files, measurement, patient
from registry import services
from registry.charts import episode_charts
from registry.instruments import EPDS, INSTRUMENTS
from registry.models import Flag, Measurement, RegistrySettings
from registry.scoring import ScoringError, score
from registry.services import Answers
from tests.factories import EpisodeFactory, UserFactory

pytestmark = pytest.mark.django_db


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


@pytest.fixture
def episode(clinic, care_manager):
    RegistrySettings.objects.create(clinic=clinic, enabled_instruments=["GAD7", "EPDS"])
    return EpisodeFactory(
        patient__clinic=clinic, patient__care_manager=care_manager, patient__sex="female", enrolled_on=days_ago(30)
    )


@pytest.fixture
def data_manager(clinic):
    return UserFactory(username="dana", role=Role.CLINIC_ADMIN, fte=None, clinics=[clinic])


# --- Pure scoring ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "total", "band", "positive"),
    [
        ([0] * 10, 0, "below cut-off", False),
        ([1, 1, 1, 1, 1, 1, 1, 1, 1, 0], 9, "below cut-off", False),
        ([1, 1, 2, 1, 1, 1, 1, 1, 1, 0], 10, "possible depression", True),  # >= 10: possible depression
        ([1, 1, 2, 2, 2, 1, 1, 1, 1, 0], 12, "possible depression", True),
        ([2, 2, 2, 1, 1, 1, 1, 1, 2, 0], 13, "probable depression", True),  # >= 13: probable (Cox 1987)
        ([3] * 10, 30, "probable depression", True),
    ],
)
def test_epds_total_and_bands_follow_the_published_cut_offs(answers, total, band, positive):
    result = score(EPDS, answers)

    assert (result.total, result.band, result.positive) == (total, band, positive)


def test_epds_answers_are_scored_values_0_to_3_with_each_items_own_wording():
    # Item 3 is reverse-keyed on paper: "Yes, most of the time" is printed first and scores 3.
    assert EPDS.labels_for(3)[3] == "Yes, most of the time"
    assert EPDS.labels_for(1)[0] == "As much as I always could"
    assert EPDS.labels_for(10) == ("Never", "Hardly ever", "Sometimes", "Yes, quite often")
    with pytest.raises(ScoringError, match="EPDS item 10 must be 0-3, not 4"):
        score(EPDS, [0] * 9 + [4])
    with pytest.raises(ScoringError, match="EPDS needs 10 answers"):
        score(EPDS, [0] * 9)


def test_epds_item_10_is_its_safety_item():
    assert EPDS.raises_safety_flag([0] * 9 + [1])
    assert not EPDS.raises_safety_flag([3] * 9 + [0])


# --- Through the service -----------------------------------------------------------------


def test_epds_item_10_answered_raises_the_safety_flag_when_saved(episode, care_manager):
    saved = services.record_measurement(
        episode=episode, answers=Answers("EPDS", [1, 1, 1, 1, 1, 1, 1, 1, 1, 2]), taken_on=days_ago(1), by=care_manager
    )

    flag = Flag.objects.get(episode=episode, kind=Flag.Kind.SAFETY)
    assert (saved.total, saved.band, saved.item_10) == (11, "possible depression", 2)
    assert flag.measurement == saved and flag.is_open
    assert flag.reason == f"EPDS item 10 answered 2 on {days_ago(1):%Y-%m-%d}."


def test_epds_without_item_10_raises_no_safety_flag(episode, care_manager):
    services.record_measurement(
        episode=episode, answers=Answers("EPDS", [3] * 9 + [0]), taken_on=days_ago(1), by=care_manager
    )

    assert not Flag.objects.filter(kind=Flag.Kind.SAFETY).exists()


def test_epds_has_no_difficulty_question(episode, care_manager):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="difficulty question"):
        services.record_measurement(
            episode=episode, answers=Answers("EPDS", [0] * 10, difficulty=1), taken_on=days_ago(1), by=care_manager
        )


# --- Pages, settings and the chart -------------------------------------------------------


def test_epds_form_shows_each_items_answers_and_saves_with_the_flag(cm_client, episode):
    url = reverse("registry:record_measurement", args=[episode.patient.pk, "EPDS"])
    html = cm_client.get(url).content.decode()
    data = {f"epds-item_{n}": "1" for n in range(1, 11)}
    data["epds-taken_on"] = days_ago(0).isoformat()

    response = cm_client.post(url, data, follow=True)

    assert "The thought of harming myself has occurred to me" in html and "Yes, quite often" in html
    assert "EPDS saved" in response.content.decode()
    stored = Measurement.objects.get(instrument="EPDS")
    assert (stored.total, stored.band, stored.item_10) == (10, "possible depression", 1)
    assert Flag.objects.filter(episode=episode, kind=Flag.Kind.SAFETY, measurement=stored).exists()


def test_the_contact_form_asks_the_epds_where_the_clinic_uses_it_and_item_10_leads_to_the_assessment(
    cm_client, episode
):
    url = reverse("registry:record_contact", args=[episode.patient_id])
    contact = {
        "contact_date": days_ago(0).isoformat(),
        "kind": "follow_up",
        "with_whom": "patient",
        "mode": "phone",
        "reached": "on",
        "minutes": "20",
        **{f"epds-item_{n}": "1" for n in range(1, 11)},
    }

    form = cm_client.get(url).content.decode()
    response = cm_client.post(url, contact)

    assert 'data-score-form="EPDS"' in form and 'data-score-form="PHQ9"' in form
    stored = Measurement.objects.get(instrument="EPDS")
    assert (stored.total, stored.item_10, stored.contact.episode_id) == (10, 1, episode.pk)
    flag = Flag.objects.get(episode=episode, kind=Flag.Kind.SAFETY, measurement=stored)
    assert response["Location"] == reverse("registry:resolve_flag", args=[flag.pk])


def test_the_contact_form_leaves_out_a_measure_the_clinic_has_not_switched_on(cm_client, clinic, care_manager):
    episode = EpisodeFactory(patient__clinic=clinic, patient__care_manager=care_manager, enrolled_on=days_ago(30))

    form = cm_client.get(reverse("registry:record_contact", args=[episode.patient_id])).content.decode()

    assert 'data-score-form="PHQ9"' in form and 'data-score-form="GAD7"' in form
    assert 'data-score-form="EPDS"' not in form and 'data-score-form="PHQA"' not in form


def test_epds_is_off_until_the_clinic_switches_it_on(cm_client, clinic, care_manager):
    episode = EpisodeFactory(patient__clinic=clinic, patient__care_manager=care_manager, enrolled_on=days_ago(30))
    url = reverse("registry:record_measurement", args=[episode.patient.pk, "EPDS"])

    assert cm_client.get(url).status_code == 404
    RegistrySettings.objects.create(clinic=clinic, enabled_instruments=["EPDS"])
    assert cm_client.get(url).status_code == 200


def test_epds_is_charted_on_the_patients_page(cm_client, episode, care_manager):
    for days, item1 in ((20, 3), (5, 1)):
        services.record_measurement(
            episode=episode, answers=Answers("EPDS", [item1] + [1] * 9), taken_on=days_ago(days), by=care_manager
        )

    charts = episode_charts(episode, list(episode.measurements.all()))
    page = cm_client.get(reverse("patients:detail", args=[episode.patient.pk])).content.decode()

    epds_chart = next(chart for chart in charts if chart.instrument is EPDS)
    assert [point.total for point in epds_chart.points] == [12, 10]
    assert [point.item9 for point in epds_chart.points] == [1, 1]  # item 10, the safety item, answered 1
    assert epds_chart.remission_y is None  # the EPDS defines no remission line
    assert 'data-chart="EPDS"' in page


def test_a_measurements_csv_row_of_an_epds_is_imported_and_flags_item_10(data_manager, care_manager):
    RegistrySettings.objects.create(clinic=care_manager.clinics.get(), enabled_instruments=["EPDS"])
    rows = [measurement(instrument="EPDS", items="2 2 1 1 1 1 1 1 1 1")]

    import_registry(files=files(patients=[patient()], measurements=rows), by=data_manager)

    stored = Measurement.objects.get()
    assert (stored.instrument, stored.total, stored.band, stored.item_10) == ("EPDS", 12, "possible depression", 1)
    assert Flag.objects.get().measurement == stored


def test_epds_is_in_the_registry_of_instruments():
    assert INSTRUMENTS["EPDS"] is EPDS
