"""The PHQ-A (docs/clinical-definitions.md#phq-a): scored and banded as the PHQ-9, item 9's
safety rule through the real service, its difficulty question kept, the form, the chart and a
CSV import row."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from interchange.importer import import_registry
from interchange.tests.builders import files, measurement, patient
from registry import services
from registry.charts import episode_charts
from registry.instruments import INSTRUMENTS, PHQA
from registry.models import Flag, Measurement, RegistrySettings
from registry.scoring import ScoringError, score
from registry.services import Answers
from tests.factories import EpisodeFactory, UserFactory

pytestmark = pytest.mark.django_db


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


@pytest.fixture
def episode(clinic, care_manager):
    RegistrySettings.objects.create(clinic=clinic, enabled_instruments=["GAD7", "PHQA"])
    return EpisodeFactory(patient__clinic=clinic, patient__care_manager=care_manager, enrolled_on=days_ago(30))


@pytest.fixture
def data_manager(clinic):
    return UserFactory(username="dana", role=Role.CLINIC_ADMIN, fte=None, clinics=[clinic])


# --- Pure scoring ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "total", "band", "positive"),
    [
        ([0] * 9, 0, "minimal", False),
        ([1, 1, 1, 1, 0, 0, 0, 0, 0], 4, "minimal", False),
        ([1, 1, 1, 1, 1, 0, 0, 0, 0], 5, "mild", False),
        ([2, 2, 1, 1, 1, 1, 1, 0, 0], 9, "mild", False),
        ([2, 2, 2, 1, 1, 1, 1, 0, 0], 10, "moderate", True),
        ([2, 2, 2, 2, 2, 2, 2, 1, 0], 15, "moderately severe", True),
        ([3, 3, 3, 3, 2, 2, 2, 2, 0], 20, "severe", True),
        ([3] * 9, 27, "severe", True),
    ],
)
def test_phqa_is_scored_and_banded_like_the_phq9(answers, total, band, positive):
    result = score(PHQA, answers)

    assert (result.total, result.band, result.positive) == (total, band, positive)


def test_phqa_has_the_adolescent_wording_and_answers_0_to_3():
    assert PHQA.items[0] == "Feeling down, depressed, irritable, or hopeless"
    assert "school work" in PHQA.items[6]
    assert PHQA.labels_for(9) == ("Not at all", "Several days", "More than half the days", "Nearly every day")
    with pytest.raises(ScoringError, match="PHQ-A item 9 must be 0-3, not 4"):
        score(PHQA, [0] * 8 + [4])


# --- Through the service -----------------------------------------------------------------


def test_phqa_item_9_answered_raises_the_safety_flag_when_saved(episode, care_manager):
    saved = services.record_measurement(
        episode=episode, answers=Answers("PHQA", [1] * 8 + [1], difficulty=2), taken_on=days_ago(1), by=care_manager
    )

    flag = Flag.objects.get(episode=episode, kind=Flag.Kind.SAFETY)
    assert (saved.total, saved.band, saved.item_9, saved.difficulty) == (9, "mild", 1, 2)
    assert flag.measurement == saved and flag.is_open
    assert flag.reason == f"PHQ-A item 9 answered 1 on {days_ago(1):%Y-%m-%d}."


def test_phqa_without_item_9_raises_no_safety_flag(episode, care_manager):
    services.record_measurement(
        episode=episode, answers=Answers("PHQA", [3] * 8 + [0]), taken_on=days_ago(1), by=care_manager
    )

    assert not Flag.objects.filter(kind=Flag.Kind.SAFETY).exists()


def test_the_difficulty_question_stays_with_the_instruments_that_ask_it(episode, care_manager):
    with pytest.raises(ValidationError, match="Only the PHQ-9 and the PHQ-A ask"):
        services.record_measurement(
            episode=episode, answers=Answers("GAD7", [0] * 7, difficulty=1), taken_on=days_ago(1), by=care_manager
        )


# --- Pages, settings and the chart -------------------------------------------------------


def test_phqa_form_renders_saves_and_flags_item_9(cm_client, episode):
    url = reverse("registry:record_measurement", args=[episode.patient.pk, "PHQA"])
    html = cm_client.get(url).content.decode()
    data = {f"phqa-item_{n}": "2" for n in range(1, 10)}
    data.update({"phqa-difficulty": "1", "phqa-taken_on": days_ago(0).isoformat()})

    response = cm_client.post(url, data, follow=True)

    assert "Trouble concentrating on things like school work" in html
    assert "If you are experiencing any of the problems on this form" in html
    assert "PHQ-A saved" in response.content.decode()
    stored = Measurement.objects.get(instrument="PHQA")
    assert (stored.total, stored.band, stored.item_9, stored.difficulty) == (18, "moderately severe", 2, 1)
    assert Flag.objects.filter(episode=episode, kind=Flag.Kind.SAFETY, measurement=stored).exists()


def test_phqa_is_off_until_the_clinic_switches_it_on(cm_client, clinic, care_manager):
    episode = EpisodeFactory(patient__clinic=clinic, patient__care_manager=care_manager, enrolled_on=days_ago(30))
    url = reverse("registry:record_measurement", args=[episode.patient.pk, "PHQA"])

    assert cm_client.get(url).status_code == 404
    RegistrySettings.objects.create(clinic=clinic, enabled_instruments=["PHQA"])
    assert cm_client.get(url).status_code == 200


def test_phqa_is_charted_with_its_item_9_answers(cm_client, episode, care_manager):
    for days, answers in ((20, [2] * 8 + [1]), (5, [1] * 8 + [0])):
        services.record_measurement(
            episode=episode, answers=Answers("PHQA", answers), taken_on=days_ago(days), by=care_manager
        )

    charts = episode_charts(episode, list(episode.measurements.all()))
    page = cm_client.get(reverse("patients:detail", args=[episode.patient.pk])).content.decode()

    chart = next(chart for chart in charts if chart.instrument is PHQA)
    assert [(point.total, point.item9) for point in chart.points] == [(17, 1), (8, 0)]
    assert 'data-chart="PHQA"' in page


def test_a_measurements_csv_row_of_a_phqa_is_imported_and_flags_item_9(data_manager, care_manager):
    rows = [measurement(instrument="PHQA", items="2 2 2 1 1 1 1 0 2")]

    import_registry(files=files(patients=[patient()], measurements=rows), by=data_manager)

    stored = Measurement.objects.get()
    assert (stored.instrument, stored.total, stored.band, stored.item_9) == ("PHQA", 12, "moderate", 2)
    assert Flag.objects.get().measurement == stored


def test_phqa_is_in_the_registry_of_instruments():
    assert INSTRUMENTS["PHQA"] is PHQA
