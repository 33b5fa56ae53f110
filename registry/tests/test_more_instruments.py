"""AUDIT-C, the C-SSRS screener and the PCL-5 (docs/clinical-definitions.md#instruments and
docs/clinical-definitions.md#safety), and each clinic's choice."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from registry import services
from registry.models import Flag, Measurement, RegistrySettings
from registry.scoring import AUDITC, CSSRS, PCL5, ScoringError, cut_off, raises_safety_flag, score, score_total
from registry.services import Answers
from tests.factories import EpisodeFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def days_ago(days: int) -> datetime.date:
    return TODAY() - datetime.timedelta(days=days)


@pytest.fixture
def episode(clinic, care_manager):
    return EpisodeFactory(
        patient__clinic=clinic, patient__care_manager=care_manager, patient__sex="female", enrolled_on=days_ago(30)
    )


def record(episode, code: str, answers: list[int], by) -> Measurement:
    return services.record_measurement(episode=episode, answers=Answers(code, answers), taken_on=days_ago(1), by=by)


# --- Pure scoring --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sex", "total", "positive"),
    [
        ("female", 2, False),
        ("female", 3, True),
        ("male", 3, False),
        ("male", 4, True),
        ("unknown", 3, True),  # the lower cut-off when sex is unknown: no at-risk drinker missed
        ("other", 2, False),
    ],
)
def test_audit_c_cut_off_depends_on_sex(sex, total, positive):
    answers = [min(total, 4), max(total - 4, 0), 0]

    result = score(AUDITC, answers, positive_at=cut_off(AUDITC, sex=sex))

    assert (result.total, result.positive) == (total, positive)
    assert result.band == ("positive screen" if positive else "negative screen")


def test_audit_c_answers_are_0_to_4_and_total_12_at_most():
    assert score(AUDITC, [4, 4, 4]).total == 12
    with pytest.raises(ScoringError, match="AUDIT-C item 2 must be 0-4, not 5"):
        score(AUDITC, [0, 5, 0])


@pytest.mark.parametrize(
    ("answers", "risk", "flag"),
    [
        ([0, 0, 0, 0, 0, 0], "no risk identified", False),
        ([1, 0, 0, 0, 0, 0], "low risk", False),
        ([1, 1, 0, 0, 0, 0], "low risk", False),
        ([1, 1, 1, 0, 0, 0], "moderate risk", False),
        ([0, 0, 0, 0, 0, 1], "moderate risk", False),  # behaviour more than 3 months ago
        ([1, 1, 1, 1, 0, 0], "high risk", True),  # intent
        ([1, 1, 1, 0, 1, 0], "high risk", True),  # plan
        ([0, 0, 0, 0, 0, 2], "high risk", True),  # behaviour in the past 3 months
    ],
)
def test_cssrs_screener_triage_follows_the_columbia_guidance(answers, risk, flag):
    result = score(CSSRS, answers)

    assert result.band == risk
    assert raises_safety_flag(CSSRS, answers) is flag


def test_cssrs_questions_1_to_5_are_yes_or_no():
    with pytest.raises(ScoringError, match="C-SSRS screener item 4 must be 0-1, not 2"):
        score(CSSRS, [1, 1, 1, 2, 0, 0])


def test_cssrs_cannot_be_scored_from_a_total_alone():
    with pytest.raises(ScoringError, match="scored from its answers"):
        score_total(CSSRS, 1)


@pytest.mark.parametrize(
    ("total", "cut", "band"),
    [
        (32, 33, "below PTSD cut-off"),
        (33, 33, "probable PTSD"),
        (31, 31, "probable PTSD"),
        (30, 31, "below PTSD cut-off"),
    ],
)
def test_pcl5_probable_ptsd_at_the_clinics_cut_off(total, cut, band):
    answers = [4] * (total // 4) + ([total % 4] if total % 4 else [])
    answers += [0] * (20 - len(answers))

    result = score(PCL5, answers, positive_at=cut_off(PCL5, pcl5_positive_at=cut))

    assert (result.total, result.band) == (total, band)


def test_pcl5_has_twenty_items_and_a_maximum_of_80():
    assert (PCL5.item_count, PCL5.max_total, score(PCL5, [4] * 20).total) == (20, 80, 80)


# --- Saving --------------------------------------------------------------------------------


def test_cssrs_high_risk_answer_raises_the_safety_flag_when_saved(episode, care_manager):
    measurement = record(episode, "CSSRS", [1, 1, 1, 1, 0, 0], care_manager)

    flag = Flag.objects.get(episode=episode, kind=Flag.Kind.SAFETY, resolved_at__isnull=True)
    assert flag.measurement == measurement
    assert "C-SSRS high risk" in flag.reason and "question 1, 2, 3, 4" in flag.reason
    assert measurement.band == "high risk"


def test_cssrs_moderate_risk_is_recorded_without_a_safety_flag(episode, care_manager):
    record(episode, "CSSRS", [1, 1, 1, 0, 0, 0], care_manager)

    assert not Flag.objects.filter(kind=Flag.Kind.SAFETY).exists()


def test_audit_c_uses_the_patients_sex(episode, care_manager):
    measurement = record(episode, "AUDITC", [2, 1, 0], care_manager)  # 3: positive for a woman

    assert (measurement.total, measurement.band) == (3, "positive screen")


def test_pcl5_band_follows_the_clinic_setting(episode, clinic, care_manager):
    RegistrySettings.objects.create(clinic=clinic, pcl5_positive_at=31)

    measurement = record(episode, "PCL5", [4] * 7 + [3] + [0] * 12, care_manager)  # 31

    assert (measurement.total, measurement.band) == (31, "probable PTSD")
    assert measurement.answers == [4] * 7 + [3] + [0] * 12


def test_database_refuses_a_pcl5_answer_out_of_range(episode, care_manager):
    measurement = record(episode, "PCL5", [1] * 20, care_manager)

    with pytest.raises(IntegrityError), transaction.atomic():
        Measurement.objects.filter(pk=measurement.pk).update(item_20=5, total=24)


def test_database_refuses_a_cssrs_total_without_answers(episode, care_manager):
    measurement = record(episode, "CSSRS", [0] * 6, care_manager)

    with pytest.raises(IntegrityError), transaction.atomic():
        Measurement.objects.filter(pk=measurement.pk).update(
            total_only=True, item_1=None, item_2=None, item_3=None, item_4=None, item_5=None, item_6=None
        )


# --- Pages and the clinic's choice -----------------------------------------------------------


def measurement_url(patient, code):
    return reverse("registry:record_measurement", args=[patient.pk, code])


def test_cssrs_recorded_on_its_page_shows_the_risk_and_the_flag(cm_client, episode):
    data = {f"cssrs-item_{n}": a for n, a in enumerate(["1", "1", "0", "0", "0", "2"], start=1)}
    data["cssrs-taken_on"] = days_ago(0).isoformat()

    response = cm_client.post(measurement_url(episode.patient, "CSSRS"), data, follow=True)

    assert "C-SSRS screener saved" in response.content.decode()
    assert "high risk" in response.content.decode()
    assert Flag.objects.filter(episode=episode, kind=Flag.Kind.SAFETY).exists()


def test_audit_c_page_lists_each_items_own_answers(cm_client, episode):
    html = cm_client.get(measurement_url(episode.patient, "AUDITC")).content.decode()

    assert "4 or more times a week" in html and "10 or more" in html and "Daily or almost daily" in html


def test_clinic_that_switches_an_instrument_off_no_longer_offers_it(cm_client, clinic, episode):
    RegistrySettings.objects.create(clinic=clinic, enabled_instruments=["GAD7"])

    patient_page = cm_client.get(reverse("patients:detail", args=[episode.patient.pk])).content.decode()
    pcl5_page = cm_client.get(measurement_url(episode.patient, "PCL5"))

    assert measurement_url(episode.patient, "GAD7") in patient_page
    assert measurement_url(episode.patient, "PCL5") not in patient_page
    assert measurement_url(episode.patient, "PHQ9") in patient_page
    assert pcl5_page.status_code == 404


def test_clinic_admin_chooses_the_instruments_on_the_settings_page(client, clinic):
    from tests.factories import UserFactory

    admin = UserFactory(role="clinic_admin", clinics=[clinic])
    client.force_login(admin)
    url = reverse("registry:settings")
    form = client.get(url).context["form"]
    data = {name: ("" if value is None else value) for name, value in form.initial.items()}
    data.pop("id", None)
    data.pop("clinic", None)
    data["enabled_instruments"] = ["GAD7", "CSSRS"]

    response = client.post(url, data)

    assert response.status_code == 302
    assert RegistrySettings.objects.get(clinic=clinic).enabled_instruments == ["GAD7", "CSSRS"]
