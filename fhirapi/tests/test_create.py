"""Posting a completed PHQ-9 or GAD-7: checked, scored by the registry's own code, safety rule at once."""

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fhirapi.tests.conftest import Api, days_ago, enroll, validated
from patients import services as patient_services
from registry.models import Flag, Measurement, RegistrySettings
from registry.scoring import ANSWER_LOINC, GAD7, PHQ9
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PHQ9_URL = "http://loinc.org/q/44249-1"
GAD7_URL = "http://loinc.org/q/69737-5"
CREATE = "/fhir/QuestionnaireResponse"


def coded(code: str, answer: int) -> dict:
    return {"linkId": code, "answer": [{"valueCoding": {"system": "http://loinc.org", "code": ANSWER_LOINC[answer]}}]}


def questionnaire_response(patient_pk, answers, *, questionnaire=PHQ9_URL, instrument=PHQ9, authored=None, **extra):
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": questionnaire,
        "status": "completed",
        "subject": {"reference": f"Patient/{patient_pk}"},
        "authored": authored or days_ago(1).isoformat(),
        "item": [coded(code, answer) for code, answer in zip(instrument.item_loinc, answers, strict=False)],
        **extra,
    }


def nothing_stored():
    return not Measurement.objects.exists() and not Flag.objects.exists()


def dashboard_cell(html: str, episode_pk: int, css_class: str) -> str:
    row = re.search(rf'<tr data-episode="{episode_pk}">(.*?)</tr>', html, re.S).group(1)
    return re.search(rf'<td class="[^"]*\b{css_class}\b[^"]*"[^>]*>(.*?)</td>', row, re.S).group(1).strip()


def test_posted_phq9_with_item9_is_scored_flagged_searchable_and_on_the_dashboard(
    client, writer, patient, care_manager
):
    answers = [2, 2, 1, 1, 1, 1, 1, 0, 1]  # 10, item 9 = 1

    response = writer.post(CREATE, questionnaire_response(patient.pk, answers))

    assert response.status_code == 201, response.content
    created = validated(response.json())
    measurement = Measurement.objects.get()
    assert response["Location"] == f"http://testserver/fhir/QuestionnaireResponse/{measurement.pk}"
    assert created["id"] == str(measurement.pk)
    assert (measurement.instrument, measurement.total, measurement.band) == ("PHQ9", 10, "moderate")
    assert measurement.item_9 == 1
    assert measurement.source == Measurement.Source.IMPORT
    assert measurement.recorded_by.api_client.name == "Patient app"
    assert measurement.history.get().history_user == measurement.recorded_by
    # the Observation, through the search API
    found = validated(
        writer.get("/fhir/Observation", {"patient": patient.pk, "code": "http://loinc.org|44261-6"}).json()
    )
    assert [(e["resource"]["id"], e["resource"]["valueQuantity"]["value"]) for e in found["entry"]] == [
        (str(measurement.pk), 10)
    ]
    # the safety flag, raised at once
    flag = Flag.objects.get(episode=patient.episodes.get(), kind=Flag.Kind.SAFETY, resolved_at__isnull=True)
    assert flag.measurement == measurement
    # the care manager's dashboard row
    client.force_login(care_manager)
    page = client.get(reverse("registry:dashboard")).content.decode()
    episode = patient.episodes.get()
    assert dashboard_cell(page, episode.pk, "phq9-latest") == "10"
    assert 'data-flag="safety"' in re.search(rf'<tr data-episode="{episode.pk}">(.*?)</tr>', page, re.S).group(1)


def test_a_token_post_needs_no_csrf_token(writer, patient):
    strict = Api(Client(enforce_csrf_checks=True), writer.token)

    response = strict.post(CREATE, questionnaire_response(patient.pk, [0] * 9))

    assert response.status_code == 201, response.content


def test_integer_answers_a_gad7_and_a_self_report(writer, patient):
    answers = [3, 3, 3, 2, 0, 0, 0]
    resource = questionnaire_response(patient.pk, answers, questionnaire=GAD7_URL, instrument=GAD7)
    resource["item"] = [
        {"linkId": code, "answer": [{"valueInteger": a}]} for code, a in zip(GAD7.item_loinc, answers, strict=True)
    ]
    resource["source"] = {"reference": f"Patient/{patient.pk}"}

    response = writer.post(CREATE, resource)

    assert response.status_code == 201, response.content
    measurement = Measurement.objects.get()
    assert (measurement.instrument, measurement.total, measurement.band) == ("GAD7", 11, "moderate")
    assert measurement.source == Measurement.Source.SELF_REPORT
    assert not Flag.objects.filter(kind=Flag.Kind.SAFETY).exists()


def test_difficulty_and_a_matching_total_are_kept(writer, patient):
    resource = questionnaire_response(patient.pk, [1] * 8 + [0])
    resource["item"] += [
        {"linkId": "69722-7", "answer": [{"valueCoding": {"system": "http://loinc.org", "code": "LA6574-3"}}]},
        {"linkId": "44261-6", "answer": [{"valueInteger": 8}]},
    ]

    response = writer.post(CREATE, resource)

    assert response.status_code == 201, response.content
    assert Measurement.objects.get().difficulty == 3  # LA6574-3 is "Extremely difficult"
    assert validated(response.json())["item"][-1]["answer"][0]["valueCoding"]["code"] == "LA6574-3"


def _without(resource, link_id):
    resource["item"] = [item for item in resource["item"] if item["linkId"] != link_id]
    return resource


def _bad_answer(resource):
    """Item 3 answered with a difficulty code."""
    (item,) = [item for item in resource["item"] if item["linkId"] == "44259-0"]
    item["answer"] = [{"valueCoding": {"system": "http://loinc.org", "code": "LA6572-7"}}]
    return resource


def _out_of_range(resource):
    resource["item"][0]["answer"] = [{"valueInteger": 4}]
    return resource


def _twice(resource):
    resource["item"].append(coded("44250-9", 1))
    return resource


def _total_mismatch(resource):
    resource["item"].append({"linkId": "44261-6", "answer": [{"valueInteger": 27}]})
    return resource


@pytest.mark.parametrize(
    ("change", "status", "says"),
    [
        (lambda r: _without(r, "44260-8"), 422, "Item 9 (44260-8) of the PHQ-9 is missing"),
        (_bad_answer, 422, "The answer to item 44259-0 must be one of LA6568-5"),
        (_out_of_range, 422, "must be one of"),
        (_twice, 422, "answered more than once"),
        (_total_mismatch, 422, "not the sum of the answers"),
        (lambda r: r | {"questionnaire": "http://loinc.org/q/55757-9"}, 422, "Unknown questionnaire"),
        (lambda r: r | {"status": "in-progress"}, 422, "status must be 'completed'"),
        (lambda r: r | {"authored": (timezone.localdate() + datetime.timedelta(days=1)).isoformat()}, 422, "future"),
        (lambda r: r | {"authored": days_ago(200).isoformat()}, 422, "before this episode of care began"),
        (lambda r: r | {"subject": {"reference": "Group/1"}}, 422, "subject must reference the patient"),
        (lambda r: r | {"item": [{"linkId": "44250-9", "answer": [{"valueInteger": "x"}]}]}, 400, "valid integer"),
        (lambda r: r | {"resourceType": "Patient"}, 400, "Send a QuestionnaireResponse"),
        (lambda r: r | {"subject": {"reference": "Patient/999999"}}, 404, "Patient/999999 was not found"),
    ],
)
def test_a_bad_or_incomplete_response_gets_an_outcome_and_nothing_is_stored(writer, patient, change, status, says):
    resource = change(questionnaire_response(patient.pk, [1] * 8 + [1]))

    response = writer.post(CREATE, resource)

    assert response.status_code == status, response.content
    outcome = validated(response.json())
    assert outcome["resourceType"] == "OperationOutcome"
    assert any(says in issue["diagnostics"] for issue in outcome["issue"]), outcome
    assert nothing_stored()


def test_every_problem_is_listed_at_once(writer, patient):
    resource = _bad_answer(_without(questionnaire_response(patient.pk, [1] * 9), "44250-9"))
    resource["authored"] = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()

    response = writer.post(CREATE, resource)

    assert response.status_code == 422
    diagnostics = [issue["diagnostics"] for issue in response.json()["issue"]]
    assert len(diagnostics) == 3
    assert any("Item 1 (44250-9)" in d for d in diagnostics)
    assert any("item 44259-0" in d for d in diagnostics)
    assert any("future" in d for d in diagnostics)
    assert nothing_stored()


def test_another_clinics_patient_is_not_found_and_nothing_is_stored(writer, other_clinic):
    south_cm = UserFactory(username="south-cm", clinics=[other_clinic])
    theirs = enroll(other_clinic, south_cm, "S-0001")

    response = writer.post(CREATE, questionnaire_response(theirs.pk, [3] * 9))

    assert response.status_code == 404
    assert validated(response.json())["issue"][0]["code"] == "not-found"
    assert nothing_stored()


def test_a_discharged_patient_cannot_get_new_scores(writer, patient, care_manager):
    patient_services.change_status(
        episode=patient.episodes.get(), status="discharged", by=care_manager, on=days_ago(2), discharge_reason="moved"
    )

    response = writer.post(CREATE, questionnaire_response(patient.pk, [1] * 9))

    assert response.status_code == 422
    assert "no open episode" in response.json()["issue"][0]["diagnostics"]
    assert nothing_stored()


def test_an_instrument_the_clinic_does_not_use_is_refused(writer, patient, clinic):
    RegistrySettings.objects.create(clinic=clinic, enabled_instruments=[])
    resource = questionnaire_response(patient.pk, [1] * 7, questionnaire=GAD7_URL, instrument=GAD7)

    response = writer.post(CREATE, resource)

    assert response.status_code == 422
    assert "This clinic does not use the GAD-7." in response.json()["issue"][0]["diagnostics"]
    assert nothing_stored()


def test_a_body_that_is_not_json_is_refused(writer, patient):
    assert writer.post(CREATE, "{not json").status_code == 400
    assert writer.post(CREATE, "a=1", content_type="application/x-www-form-urlencoded").status_code == 415
    assert nothing_stored()
