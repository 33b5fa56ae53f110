"""Recording care through the pages: scores, contacts, safety flags, entered in error."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from patients.models import Episode
from registry.models import Contact, Flag, Measurement, SafetyAssessment
from registry.services import Answers
from tests.factories import EpisodeFactory, UserFactory, record_contact, record_score

pytestmark = pytest.mark.django_db


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


def item_answers(prefix: str, answers: list[int | None]) -> dict:
    """Radio answers as the browser posts them; None leaves the item unanswered."""
    return {f"{prefix}-item_{n}": str(a) for n, a in enumerate(answers, start=1) if a is not None}


def contact_post(**overrides) -> dict:
    data = {
        "contact_date": days_ago(1).isoformat(),
        "contact_time": "10:30",
        "kind": "initial_assessment",
        "with_whom": "patient",
        "mode": "phone",
        "reached": "on",
        "minutes": "45",
        "interventions": ["psychoeducation", "behavioral_activation"],
        "note": "Discussed goals.",
        "next_contact_on": (days_ago(1) + datetime.timedelta(days=14)).isoformat(),
    }
    data.update(overrides)
    return data


def form_errors(response) -> list[str]:
    """Every error message on every form in the page context."""
    forms = [response.context.get("form"), *response.context.get("score_forms", [])]
    return [str(e) for form in forms if form is not None for errors in form.errors.values() for e in errors]


@pytest.fixture
def episode(clinic, care_manager):
    return EpisodeFactory(patient__clinic=clinic, patient__care_manager=care_manager, enrolled_on=days_ago(60))


@pytest.fixture
def patient(episode):
    return episode.patient


def measurement_url(patient, instrument="PHQ9"):
    return reverse("registry:record_measurement", args=[patient.pk, instrument])


# --- Recording a score -------------------------------------------------------------------


def test_measurement_page_shows_every_item(cm_client, patient):
    response = cm_client.get(measurement_url(patient))

    html = response.content.decode()
    assert response.status_code == 200
    assert all(f'name="phq9-item_{n}"' in html for n in range(1, 10))


def test_complete_phq9_is_saved_with_the_total_and_band_the_server_computes(cm_client, patient, episode, care_manager):
    answers = [2, 2, 2, 2, 2, 1, 1, 1, 0]  # 13: moderate
    data = {**item_answers("phq9", answers), "phq9-taken_on": days_ago(2).isoformat(), "phq9-difficulty": "2"}
    data.update({"total": "0", "phq9-total": "0", "band": "minimal", "phq9-band": "minimal"})

    response = cm_client.post(measurement_url(patient), data)

    assert response.status_code == 302
    assert response["Location"] == reverse("patients:detail", args=[patient.pk])
    measurement = Measurement.objects.get()
    assert (measurement.instrument, measurement.total, measurement.band) == ("PHQ9", 13, "moderate")
    assert measurement.answers == answers
    assert (measurement.difficulty, measurement.taken_on, measurement.recorded_by) == (2, days_ago(2), care_manager)
    episode.refresh_from_db()
    assert (episode.phq9_baseline, episode.phq9_latest) == (13, 13)
    assert not Flag.objects.exists()


def test_complete_gad7_is_saved_with_its_band(cm_client, patient):
    data = {**item_answers("gad7", [3, 3, 3, 3, 3, 3, 0]), "gad7-taken_on": days_ago(1).isoformat()}

    cm_client.post(measurement_url(patient, "GAD7"), data)

    measurement = Measurement.objects.get()
    assert (measurement.instrument, measurement.total, measurement.band) == ("GAD7", 18, "severe")


@pytest.mark.parametrize("missing", [1, 4, 9])
def test_phq9_with_an_item_unanswered_names_the_item_and_saves_nothing(cm_client, patient, missing):
    answers: list[int | None] = [1] * 9
    answers[missing - 1] = None
    data = {**item_answers("phq9", answers), "phq9-taken_on": days_ago(1).isoformat()}

    response = cm_client.post(measurement_url(patient), data)

    assert response.status_code == 200
    assert f"PHQ-9 item {missing} is not answered." in response.content.decode()
    assert form_errors(response) == [f"PHQ-9 item {missing} is not answered."]
    assert not Measurement.objects.exists()


def test_phq9_with_an_answer_out_of_range_is_refused_and_nothing_saved(cm_client, patient):
    data = {**item_answers("phq9", [1, 1, 7, 1, 1, 1, 1, 1, 0]), "phq9-taken_on": days_ago(1).isoformat()}

    response = cm_client.post(measurement_url(patient), data)

    assert response.status_code == 200
    assert "Item 3: choose one of 0-3." in response.content.decode()
    assert not Measurement.objects.exists()


def test_phq9_dated_in_the_future_is_refused(cm_client, patient):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    data = {**item_answers("phq9", [1] * 9), "phq9-taken_on": tomorrow.isoformat()}

    response = cm_client.post(measurement_url(patient), data)

    assert response.status_code == 200
    assert "The measurement date is in the future." in response.content.decode()
    assert not Measurement.objects.exists()


def test_unknown_instrument_is_not_found(cm_client, patient):
    response = cm_client.get(measurement_url(patient, "PHQ99"))

    assert response.status_code == 404


def test_item9_answer_shows_the_safety_flag_on_the_patient_page_and_the_dashboard(cm_client, patient, care_manager):
    data = {**item_answers("phq9", [1, 1, 1, 1, 1, 1, 1, 1, 1]), "phq9-taken_on": days_ago(1).isoformat()}

    cm_client.post(measurement_url(patient), data)

    flag = Flag.objects.get()
    assert (flag.kind, flag.is_open, flag.raised_by) == (Flag.Kind.SAFETY, True, care_manager)
    page = cm_client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert 'data-open-flag="safety"' in page
    assert reverse("registry:resolve_flag", args=[flag.pk]) in page
    dashboard = cm_client.get(reverse("registry:dashboard")).content.decode()
    assert '<span class="badge text-bg-danger me-1" data-flag="safety">Safety</span>' in dashboard


# --- Recording a contact -----------------------------------------------------------------


def test_contact_with_phq9_and_gad7_in_one_post_saves_all_three(cm_client, patient, episode, care_manager):
    data = {
        **contact_post(),
        **item_answers("phq9", [3, 3, 2, 2, 2, 1, 1, 1, 0]),
        **item_answers("gad7", [2, 2, 2, 2, 1, 1, 0]),
    }

    response = cm_client.post(reverse("registry:record_contact", args=[patient.pk]), data)

    assert response.status_code == 302
    contact = Contact.objects.get()
    assert (contact.kind, contact.minutes, contact.recorded_by) == ("initial_assessment", 45, care_manager)
    assert contact.interventions == ["psychoeducation", "behavioral_activation"]
    scores = {m.instrument: (m.total, m.band, m.taken_on) for m in contact.measurements.all()}
    assert scores == {"PHQ9": (15, "moderately severe", days_ago(1)), "GAD7": (10, "moderate", days_ago(1))}
    episode.refresh_from_db()
    assert episode.status == Episode.Status.ACTIVE
    assert (episode.completed_contacts, episode.phq9_latest, episode.gad7_latest) == (1, 15, 10)


def test_contact_without_scores_saves_the_contact_alone(cm_client, patient):
    response = cm_client.post(reverse("registry:record_contact", args=[patient.pk]), contact_post(kind="follow_up"))

    assert response.status_code == 302
    assert Contact.objects.count() == 1
    assert not Measurement.objects.exists()


def test_half_filled_optional_gad7_at_a_contact_is_refused_and_nothing_saved(cm_client, patient, episode):
    data = {
        **contact_post(),
        **item_answers("phq9", [1] * 9),
        **item_answers("gad7", [1, 1, 1, None, None, None, None]),
    }

    response = cm_client.post(reverse("registry:record_contact", args=[patient.pk]), data)

    assert response.status_code == 400  # refused: drawn again with what was typed
    assert "GAD-7 item 4 is not answered." in response.content.decode()
    assert sorted(form_errors(response)) == [f"GAD-7 item {n} is not answered." for n in range(4, 8)]
    assert not Contact.objects.exists()
    assert not Measurement.objects.exists()
    episode.refresh_from_db()
    assert episode.status == Episode.Status.ENROLLED


def test_scores_at_a_contact_that_did_not_reach_the_patient_are_refused(cm_client, patient):
    data = {**contact_post(kind="outreach"), **item_answers("phq9", [1] * 9)}
    del data["reached"]

    response = cm_client.post(reverse("registry:record_contact", args=[patient.pk]), data)

    assert response.status_code == 400  # refused: drawn again with what was typed
    assert "Scores can only be recorded at a contact that reached the patient." in response.content.decode()
    assert not Contact.objects.exists()
    assert not Measurement.objects.exists()


def test_contact_dated_in_the_future_is_refused(cm_client, patient):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    response = cm_client.post(
        reverse("registry:record_contact", args=[patient.pk]),
        contact_post(contact_date=tomorrow.isoformat(), next_contact_on=""),
    )

    assert response.status_code == 400  # refused: drawn again with what was typed
    assert "The contact date cannot be in the future." in response.content.decode()
    assert not Contact.objects.exists()


def test_recording_for_a_discharged_patient_is_not_found(cm_client, patient, episode):
    Episode.objects.filter(pk=episode.pk).update(
        status="discharged", discharged_on=days_ago(1), discharge_reason="moved"
    )

    assert cm_client.get(reverse("registry:record_contact", args=[patient.pk])).status_code == 404
    assert cm_client.get(measurement_url(patient)).status_code == 404


# --- Resolving a safety flag -------------------------------------------------------------


@pytest.fixture
def safety_flag(episode, care_manager):
    record_score(episode, "PHQ9", 14, days_ago(3), care_manager, item9=2)
    return Flag.objects.get(kind=Flag.Kind.SAFETY)


def assessment_post(**overrides) -> dict:
    data = {
        "assessed_at": (timezone.localtime() - datetime.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"),
        "risk_level": "low",
        "actions": ["safety_plan", "crisis_resources"],
        "note": "Passive thoughts, no plan or intent. Safety plan reviewed.",
    }
    data.update(overrides)
    return data


def test_resolve_flag_page_shows_the_reason(cm_client, safety_flag):
    response = cm_client.get(reverse("registry:resolve_flag", args=[safety_flag.pk]))

    assert response.status_code == 200
    assert "PHQ-9 item 9 answered 2" in response.content.decode()


def test_resolving_a_safety_flag_without_a_note_is_refused(cm_client, safety_flag):
    response = cm_client.post(reverse("registry:resolve_flag", args=[safety_flag.pk]), assessment_post(note=""))

    assert response.status_code == 200
    assert response.context["form"].errors["note"] == ["This field is required."]
    safety_flag.refresh_from_db()
    assert safety_flag.is_open
    assert not SafetyAssessment.objects.exists()


def test_resolving_a_safety_flag_with_an_assessment_closes_it(cm_client, safety_flag, patient, care_manager):
    response = cm_client.post(reverse("registry:resolve_flag", args=[safety_flag.pk]), assessment_post())

    assert response.status_code == 302
    assert response["Location"] == reverse("patients:detail", args=[patient.pk])
    safety_flag.refresh_from_db()
    assert not safety_flag.is_open
    assert safety_flag.resolved_by == care_manager
    assert "Passive thoughts" in safety_flag.resolution_note
    assessment = SafetyAssessment.objects.get()
    assert (assessment.flag, assessment.assessed_by, assessment.risk_level) == (safety_flag, care_manager, "low")
    assert assessment.actions == ["safety_plan", "crisis_resources"]
    page = cm_client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert 'data-open-flag="safety"' not in page
    assert "Resolved flags" in page


def test_psychiatric_consultant_may_resolve_a_safety_flag(client, clinic, safety_flag):
    consultant = UserFactory(username="psy", role=Role.PSYCHIATRIC_CONSULTANT, clinics=[clinic])
    client.force_login(consultant)

    client.post(reverse("registry:resolve_flag", args=[safety_flag.pk]), assessment_post())

    safety_flag.refresh_from_db()
    assert safety_flag.resolved_by == consultant


def test_pcp_may_not_resolve_a_safety_flag(client, clinic, safety_flag):
    client.force_login(UserFactory(username="pcp", role=Role.MEDICAL_PROVIDER, clinics=[clinic]))

    response = client.post(reverse("registry:resolve_flag", args=[safety_flag.pk]), assessment_post())

    assert response.status_code == 403
    safety_flag.refresh_from_db()
    assert safety_flag.is_open


def test_resolved_flag_cannot_be_resolved_again(cm_client, safety_flag):
    cm_client.post(reverse("registry:resolve_flag", args=[safety_flag.pk]), assessment_post())

    response = cm_client.post(reverse("registry:resolve_flag", args=[safety_flag.pk]), assessment_post())

    assert response.status_code == 404
    assert SafetyAssessment.objects.count() == 1


# --- Entered in error --------------------------------------------------------------------


def test_contact_marked_entered_in_error_stops_counting_and_takes_its_scores_with_it(
    cm_client, patient, episode, care_manager
):
    record_contact(episode, days_ago(30), care_manager, kind="initial_assessment")
    record_score(episode, "PHQ9", 18, days_ago(30), care_manager)
    wrong = record_contact(
        episode, days_ago(5), care_manager, scores=[Answers("PHQ9", [1, 1, 1, 1, 1, 0, 0, 0, 0])], minutes=20
    )

    response = cm_client.post(
        reverse("registry:contact_entered_in_error", args=[wrong.pk]), {"reason": "Wrong patient"}
    )

    assert response.status_code == 302
    wrong.refresh_from_db()
    assert wrong.is_entered_in_error
    assert (wrong.entered_in_error_by, wrong.entered_in_error_reason) == (care_manager, "Wrong patient")
    assert all(m.is_entered_in_error for m in wrong.measurements.all())
    episode.refresh_from_db()
    assert (episode.completed_contacts, episode.last_contact_on) == (1, days_ago(30))
    assert episode.phq9_latest == 18
    page = cm_client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    assert "Entered in error (" in page
    assert "Wrong patient" in page


def test_measurement_marked_entered_in_error_no_longer_is_the_latest(cm_client, episode, care_manager):
    record_score(episode, "PHQ9", 18, days_ago(30), care_manager)
    wrong = record_score(episode, "PHQ9", 3, days_ago(2), care_manager)

    response = cm_client.post(
        reverse("registry:measurement_entered_in_error", args=[wrong.pk]), {"reason": "Typed for another patient"}
    )

    assert response.status_code == 302
    wrong.refresh_from_db()
    assert wrong.is_entered_in_error
    assert wrong.entered_in_error_by == care_manager
    episode.refresh_from_db()
    assert episode.phq9_latest == 18
    assert Measurement.objects.count() == 2


def test_entered_in_error_without_a_reason_changes_nothing(cm_client, episode, care_manager):
    measurement = record_score(episode, "PHQ9", 8, days_ago(2), care_manager)

    response = cm_client.post(reverse("registry:measurement_entered_in_error", args=[measurement.pk]), {"reason": ""})

    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == ["This field is required."]
    measurement.refresh_from_db()
    assert not measurement.is_entered_in_error


def test_contact_already_entered_in_error_cannot_be_marked_again(cm_client, episode, care_manager):
    contact = record_contact(episode, days_ago(3), care_manager)
    url = reverse("registry:contact_entered_in_error", args=[contact.pk])
    cm_client.post(url, {"reason": "Duplicate"})

    response = cm_client.post(url, {"reason": "Again"})

    assert response.status_code == 200
    assert "This contact is already marked entered in error." in response.content.decode()
    contact.refresh_from_db()
    assert contact.entered_in_error_reason == "Duplicate"
