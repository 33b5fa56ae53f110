"""Reading the registry through FHIR: every resource validates, only the token's clinic is seen."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fhirapi import codes
from fhirapi import urls as fhir_urls
from fhirapi.tests import test_bulk_export
from fhirapi.tests.conftest import Api, days_ago, enroll, issue, validated
from registry import services
from registry.instruments import GAD7, PHQ9
from tests.factories import UserFactory, record_score

pytestmark = pytest.mark.django_db

PHQ9_TOTAL = "http://loinc.org|44261-6"
GAD7_TOTAL = "http://loinc.org|70274-6"


@pytest.fixture
def scores(patient, care_manager):
    episode = patient.episodes.get()
    phq9 = record_score(episode, "PHQ9", 16, days_ago(30), care_manager, item9=1)
    gad7 = record_score(episode, "GAD7", 11, days_ago(30), care_manager)
    later = services.record_measurement(
        episode=episode,
        answers=services.Answers("PHQ9", [1, 1, 1, 1, 1, 1, 1, 0, 0], difficulty=2),
        taken_on=days_ago(5),
        by=care_manager,
    )
    return phq9, gad7, later


@pytest.fixture
def other_patient(other_clinic):
    south_cm = UserFactory(username="south-cm", clinics=[other_clinic])
    return enroll(other_clinic, south_cm, "S-0001", first_name="Bertha", last_name="Quimby")


def test_metadata_is_a_capability_statement_without_a_token(client):
    response = client.get("/fhir/metadata")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    statement = validated(response.json())
    assert {r["type"] for r in statement["rest"][0]["resource"]} == {
        "Patient",
        "Group",
        "Observation",
        "QuestionnaireResponse",
    }


def test_patient_read_gives_the_patient_with_their_mrn(reader, patient, clinic):
    response = reader.get(f"/fhir/Patient/{patient.pk}")

    assert response.status_code == 200
    resource = validated(response.json())
    assert resource["id"] == str(patient.pk)
    assert resource["identifier"][0] | {"type": None} == {
        "use": "usual",
        "type": None,
        "system": codes.mrn_system("north"),
        "value": "N-0001",
    }
    assert resource["name"] == [{"use": "official", "family": "Zanetti", "given": ["Aurelio"]}]
    assert (resource["gender"], resource["birthDate"]) == ("male", "1970-03-04")
    assert resource["telecom"] == [{"system": "phone", "value": "555-0100"}]


def test_another_clinics_patient_is_not_found_exactly_like_a_missing_one(reader, other_patient):
    other = reader.get(f"/fhir/Patient/{other_patient.pk}")
    missing = reader.get("/fhir/Patient/999999")

    assert other.status_code == missing.status_code == 404
    outcome = validated(other.json())
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "not-found"
    assert other.content.decode().replace(str(other_patient.pk), "") == missing.content.decode().replace("999999", "")
    assert "Quimby" not in other.content.decode()


# Every FHIR URL that takes an id, with the object it takes (tests/test_access.py leaves these
# to us: they authenticate by token, not session).
ID_URLS = {
    "fhirapi:patient": "patient",
    "fhirapi:patient_everything": "patient",
    "fhirapi:observation": "measurement",
    "fhirapi:questionnaire_response": "measurement",
}


# (fhirapi:unknown takes any path and answers 404 to everyone.) The bulk export's URLs take a
# clinic code or an export's key: their 404 for another clinic (and
# another client) is checked in test_bulk_export.py, by these tests.
EXPORT_ID_URLS = {
    "fhirapi:group_export": "test_group_export_of_the_tokens_clinic_and_404_for_another",
    "fhirapi:export_status": "test_another_client_of_any_clinic_gets_404_for_the_status_and_the_files",
    "fhirapi:export_file": "test_another_client_of_any_clinic_gets_404_for_the_status_and_the_files",
}


def test_every_fhir_url_with_an_id_is_checked_for_other_clinics():
    with_ids = {f"fhirapi:{p.name}" for p in fhir_urls.urlpatterns if p.pattern.converters} - {"fhirapi:unknown"}

    assert with_ids == set(ID_URLS) | set(EXPORT_ID_URLS)
    assert all(hasattr(test_bulk_export, test) for test in EXPORT_ID_URLS.values())


@pytest.mark.parametrize("name", ID_URLS)
def test_another_clinics_records_are_not_found(reader, patient, other_patient, care_manager, name):
    ours = {
        "patient": patient,
        "measurement": record_score(patient.episodes.get(), "PHQ9", 12, days_ago(3), care_manager),
    }
    theirs = {
        "patient": other_patient,
        "measurement": record_score(other_patient.episodes.get(), "PHQ9", 12, days_ago(3), other_patient.care_manager),
    }

    own = reader.get(reverse(name, args=[ours[ID_URLS[name]].pk]))
    other = reader.get(reverse(name, args=[theirs[ID_URLS[name]].pk]))

    assert own.status_code == 200
    assert other.status_code == 404
    assert validated(other.json())["issue"][0]["code"] == "not-found"
    assert all(secret not in other.content.decode() for secret in ("S-0001", "Quimby", "Bertha"))


def test_observation_search_of_another_clinics_patient_is_not_found(reader, other_patient):
    response = reader.get("/fhir/Observation", {"patient": other_patient.pk, "code": PHQ9_TOTAL})

    assert response.status_code == 404


@pytest.mark.parametrize("identifier", ["N-0001", f"{codes.mrn_system('north')}|N-0001"])
def test_patient_search_by_mrn_finds_the_patient(reader, patient, identifier):
    response = reader.get("/fhir/Patient", {"identifier": identifier})

    bundle = validated(response.json())
    assert (bundle["type"], bundle["total"]) == ("searchset", 1)
    assert bundle["entry"][0]["resource"]["id"] == str(patient.pk)
    assert bundle["entry"][0]["fullUrl"] == f"http://testserver/fhir/Patient/{patient.pk}"


@pytest.mark.parametrize("identifier", ["N-9999", "urn:other:mrn|N-0001", "|N-0001", "S-0001"])
def test_patient_search_finds_nothing_for_another_mrn_system_or_clinic(reader, patient, other_patient, identifier):
    response = reader.get("/fhir/Patient", {"identifier": identifier})

    assert response.status_code == 200
    assert validated(response.json())["total"] == 0


def test_patient_search_by_post_keeps_the_mrn_out_of_the_url(reader, patient):
    response = reader.http.post(
        "/fhir/Patient/_search", {"identifier": "N-0001"}, HTTP_AUTHORIZATION=f"Bearer {reader.token}"
    )

    assert response.status_code == 200
    assert validated(response.json())["entry"][0]["resource"]["id"] == str(patient.pk)


def test_a_search_without_its_required_parameter_is_refused(reader, patient):
    missing = reader.get("/fhir/Patient", {"name": "Zanetti"})
    no_patient = reader.get("/fhir/Observation", {"code": PHQ9_TOTAL})
    no_patient_responses = reader.get("/fhir/QuestionnaireResponse")

    assert missing.status_code == no_patient.status_code == no_patient_responses.status_code == 400
    assert "Zanetti" not in missing.content.decode()
    assert "'identifier' is required" in validated(missing.json())["issue"][0]["diagnostics"]
    assert "'patient' is required" in validated(no_patient.json())["issue"][0]["diagnostics"]


def test_observation_search_gives_phq9_totals_as_screening_assessments(reader, patient, scores):
    phq9, _, later = scores

    response = reader.get("/fhir/Observation", {"patient": patient.pk, "code": PHQ9_TOTAL})

    bundle = validated(response.json())
    observations = [entry["resource"] for entry in bundle["entry"]]
    assert [o["id"] for o in observations] == [str(later.pk), str(phq9.pk)]  # newest first
    first = observations[1]
    assert first["status"] == "final"
    assert first["category"][0]["coding"][0]["code"] == "survey"
    assert first["code"]["coding"] == [{"system": "http://loinc.org", "code": "44261-6"}]
    assert first["valueQuantity"]["value"] == 16
    assert first["valueQuantity"]["code"] == "{score}"
    assert first["effectiveDateTime"] == days_ago(30).isoformat()
    assert first["subject"] == {"reference": f"Patient/{patient.pk}"}
    assert first["derivedFrom"] == [{"reference": f"QuestionnaireResponse/{phq9.pk}"}]
    assert first["interpretation"] == [{"text": "moderately severe"}]


def test_observation_search_by_gad7_code_gives_only_gad7(reader, patient, scores):
    response = reader.get("/fhir/Observation", {"patient": f"Patient/{patient.pk}", "code": GAD7_TOTAL})

    bundle = validated(response.json())
    assert [e["resource"]["id"] for e in bundle["entry"]] == [str(scores[1].pk)]
    assert bundle["entry"][0]["resource"]["code"]["coding"][0]["code"] == "70274-6"
    assert bundle["entry"][0]["resource"]["valueQuantity"]["value"] == 11


def test_questionnaire_response_read_gives_loinc_items_and_answers(reader, patient, scores):
    phq9 = scores[0]

    resource = validated(reader.get(f"/fhir/QuestionnaireResponse/{phq9.pk}").json())

    assert resource["questionnaire"] == "http://loinc.org/q/44249-1"
    assert resource["status"] == "completed"
    assert [item["linkId"] for item in resource["item"]] == list(PHQ9.item_loinc)
    answers = [item["answer"][0]["valueCoding"]["code"] for item in resource["item"]]
    assert answers == [["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"][a] for a in phq9.answers]
    assert resource["item"][8]["answer"][0]["valueCoding"]["code"] == "LA6569-3"  # item 9 = 1


def test_questionnaire_response_has_the_difficulty_question_when_recorded(reader, scores):
    later = scores[2]

    resource = validated(reader.get(f"/fhir/QuestionnaireResponse/{later.pk}").json())

    assert resource["item"][-1]["linkId"] == "69722-7"
    assert resource["item"][-1]["answer"][0]["valueCoding"]["code"] == "LA6575-0"  # "Very difficult"


def test_gad7_questionnaire_response_uses_the_gad7_panel(reader, scores):
    resource = validated(reader.get(f"/fhir/QuestionnaireResponse/{scores[1].pk}").json())

    assert resource["questionnaire"] == "http://loinc.org/q/69737-5"
    assert [item["linkId"] for item in resource["item"]] == list(GAD7.item_loinc)


def test_a_score_marked_entered_in_error_is_left_out_and_not_found(reader, patient, scores, care_manager):
    phq9 = scores[0]
    services.mark_measurement_entered_in_error(measurement=phq9, by=care_manager, reason="Wrong patient.")

    searched = validated(reader.get("/fhir/Observation", {"patient": patient.pk}).json())
    everything = validated(reader.get(f"/fhir/Patient/{patient.pk}/$everything").json())

    assert str(phq9.pk) not in {e["resource"]["id"] for e in searched["entry"]}
    assert str(phq9.pk) not in {
        e["resource"]["id"] for e in everything["entry"] if e["resource"]["id"] != str(patient.pk)
    }
    assert reader.get(f"/fhir/Observation/{phq9.pk}").status_code == 404
    assert reader.get(f"/fhir/QuestionnaireResponse/{phq9.pk}").status_code == 404


def test_everything_gives_the_patient_their_observations_and_answers(reader, patient, scores):
    response = reader.get(f"/fhir/Patient/{patient.pk}/$everything")

    bundle = validated(response.json())
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds == ["Patient"] + ["Observation"] * 3 + ["QuestionnaireResponse"] * 3
    assert all(
        e["fullUrl"] == f"http://testserver/fhir/{e['resource']['resourceType']}/{e['resource']['id']}"
        for e in bundle["entry"]
    )


def test_a_total_only_score_is_an_observation_without_answers(reader, patient, care_manager):
    legacy = services.record_total_only_measurement(
        episode=patient.episodes.get(), instrument_code="PHQ9", total=14, taken_on=days_ago(20), by=care_manager
    )

    observation = validated(reader.get(f"/fhir/Observation/{legacy.pk}").json())

    assert "derivedFrom" not in observation
    assert "Total only" in observation["note"][0]["text"]
    assert reader.get(f"/fhir/QuestionnaireResponse/{legacy.pk}").status_code == 404


def _queries(api: Api, path: str, params: dict | None = None) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert api.get(path, params).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "path",
    ["/fhir/Observation?patient={pk}", "/fhir/QuestionnaireResponse?patient={pk}", "/fhir/Patient/{pk}/$everything"],
)
def test_searches_cost_the_same_queries_for_2_or_20_scores(client, clinic, care_manager, path):
    api = Api(client, issue(clinic)[1])
    few = enroll(clinic, care_manager, "FEW")
    many = enroll(clinic, care_manager, "MANY")
    for n in range(2):
        record_score(few.episodes.get(), "PHQ9", 10, days_ago(40 - n), care_manager)
    for n in range(20):
        record_score(many.episodes.get(), "PHQ9" if n % 2 else "GAD7", 10, days_ago(40 - n), care_manager)

    few_queries, many_queries = _queries(api, path.format(pk=few.pk)), _queries(api, path.format(pk=many.pk))

    # token, last used, patient, scores, call log; the access log's row, and on the patient's own
    # URL its lookup of the patient's clinic (audit/middleware.py)
    assert few_queries == many_queries == (7 if "$everything" in path else 6)
