"""A QuestionnaireResponse sent again (a client's retry) is stored once: conditional create
(If-None-Exist: identifier=...) and the response's own identifier, unique within a clinic."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fhirapi import submissions
from fhirapi.models import ResponseIdentifier
from fhirapi.tests.conftest import Api, enroll, issue, validated
from fhirapi.tests.test_create import CREATE, questionnaire_response
from registry import services
from registry.models import Flag, Measurement
from tests.factories import UserFactory
from tests.test_faults import post_at_once

pytestmark = pytest.mark.django_db

SYSTEM = "urn:uuid:6a1c3b52-patient-app"
ITEM9_POSITIVE = [2, 2, 1, 1, 1, 1, 1, 0, 1]


def identified(patient_pk, value="r-1", system=SYSTEM, answers=ITEM9_POSITIVE) -> dict:
    identifier = {"system": system, "value": value} if system else {"value": value}
    return questionnaire_response(patient_pk, answers, identifier=identifier)


def if_none_exist(search: str) -> dict:
    return {"If-None-Exist": search}


def outcome_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    outcome = validated(response.json())
    assert outcome["resourceType"] == "OperationOutcome"
    return outcome


def test_a_retry_with_if_none_exist_stores_one_score_and_is_given_the_first(writer, patient):
    resource, header = identified(patient.pk), if_none_exist(f"identifier={SYSTEM}|r-1")

    first = writer.post(CREATE, resource, headers=header)
    retry = writer.post(CREATE, resource, headers=header)

    assert first.status_code == 201, first.content
    assert retry.status_code == 200, retry.content
    measurement = Measurement.objects.get()
    assert validated(retry.json()) == validated(first.json())
    assert retry.json()["id"] == str(measurement.pk)
    assert retry["Location"] == first["Location"] == f"http://testserver/fhir/QuestionnaireResponse/{measurement.pk}"
    assert Flag.objects.filter(kind=Flag.Kind.SAFETY).count() == 1
    assert ResponseIdentifier.objects.get().measurement == measurement


@pytest.mark.parametrize("search", ["identifier=r-1", f"QuestionnaireResponse?identifier={SYSTEM}%7Cr-1"])
def test_a_bare_value_or_an_encoded_search_with_the_type_finds_it_too(writer, patient, search):
    first = writer.post(CREATE, identified(patient.pk))

    retry = writer.post(CREATE, identified(patient.pk), headers=if_none_exist(search))

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json()["id"] == first.json()["id"]
    assert Measurement.objects.count() == 1


def test_a_resource_without_identifier_keeps_the_searchs_so_that_its_retry_finds_it(writer, patient):
    resource, header = questionnaire_response(patient.pk, [1] * 9), if_none_exist(f"identifier={SYSTEM}|r-7")

    first = writer.post(CREATE, resource, headers=header)
    retry = writer.post(CREATE, resource, headers=header)

    assert (first.status_code, retry.status_code) == (201, 200)
    assert validated(first.json())["identifier"] == {"system": SYSTEM, "value": "r-7"}
    assert Measurement.objects.count() == 1


def test_different_identifiers_store_two_scores(writer, patient):
    responses = [
        writer.post(CREATE, identified(patient.pk, value), headers=if_none_exist(f"identifier={SYSTEM}|{value}"))
        for value in ("r-1", "r-2")
    ]

    assert [r.status_code for r in responses] == [201, 201]
    assert Measurement.objects.count() == 2
    assert sorted(ResponseIdentifier.objects.values_list("value", flat=True)) == ["r-1", "r-2"]


def test_another_clinics_identical_identifier_does_not_match(client, writer, patient, other_clinic):
    south_cm = UserFactory(username="south-cm", clinics=[other_clinic])
    theirs = enroll(other_clinic, south_cm, "S-0001")
    south = Api(client, issue(other_clinic, "write", name="Patient app")[1])
    header = if_none_exist(f"identifier={SYSTEM}|r-1")

    ours = writer.post(CREATE, identified(patient.pk), headers=header)
    their_post = south.post(CREATE, identified(theirs.pk), headers=header)

    assert (ours.status_code, their_post.status_code) == (201, 201), their_post.content
    assert their_post.json()["subject"] == {"reference": f"Patient/{theirs.pk}"}
    assert {(m.episode.patient_id) for m in Measurement.objects.all()} == {patient.pk, theirs.pk}
    assert sorted(ResponseIdentifier.objects.values_list("clinic__code", flat=True)) == ["north", "south"]


@pytest.mark.parametrize(
    ("search", "says"),
    [
        ("", "give one identifier, once"),
        ("identifier=", "the identifier's value is empty"),
        (f"identifier={SYSTEM}|", "the identifier's value is empty"),
        ("patient=12&identifier=r-1", "not 'patient'"),
        ("_id=5", "not '_id'"),
        ("identifier=r-1&identifier=r-2", "give one identifier, once"),
        ("identifier=r-1,r-2", "give one identifier, once"),
        ("identifier=" + "x" * 256, "characters at most"),
    ],
)
def test_an_unsupported_or_malformed_search_is_refused_and_nothing_is_stored(writer, patient, search, says):
    response = writer.post(CREATE, identified(patient.pk), headers=if_none_exist(search))

    outcome = outcome_of(response, 400)
    assert says in outcome["issue"][0]["diagnostics"]
    assert "r-2" not in response.content.decode()  # names parameters, never echoes values
    assert not Measurement.objects.exists()


def test_a_search_that_does_not_find_the_resources_own_identifier_is_refused(writer, patient):
    response = writer.post(CREATE, identified(patient.pk, "r-1"), headers=if_none_exist(f"identifier={SYSTEM}|r-9"))

    assert "does not match the resource's identifier" in outcome_of(response, 400)["issue"][0]["diagnostics"]
    assert not Measurement.objects.exists()


def test_a_body_identifier_sent_again_without_if_none_exist_is_a_conflict_and_nothing_is_stored(writer, patient):
    first = writer.post(CREATE, identified(patient.pk))

    again = writer.post(CREATE, identified(patient.pk))

    assert first.status_code == 201
    issue = outcome_of(again, 409)["issue"][0]
    assert issue["code"] == "duplicate"
    assert f"QuestionnaireResponse/{first.json()['id']} has this identifier already" in issue["diagnostics"]
    assert Measurement.objects.count() == 1
    assert Flag.objects.filter(kind=Flag.Kind.SAFETY).count() == 1


def test_a_search_by_value_that_finds_two_systems_is_a_precondition_failure(writer, patient):
    assert writer.post(CREATE, identified(patient.pk, "r-1", system="urn:a")).status_code == 201
    assert writer.post(CREATE, identified(patient.pk, "r-1", system="urn:b")).status_code == 201

    response = writer.post(CREATE, questionnaire_response(patient.pk, [0] * 9), headers=if_none_exist("identifier=r-1"))

    assert outcome_of(response, 412)["issue"][0]["code"] == "multiple-matches"
    assert Measurement.objects.count() == 2


def test_a_retry_of_a_score_marked_entered_in_error_is_not_stored_again(writer, patient, care_manager):
    header = if_none_exist(f"identifier={SYSTEM}|r-1")
    assert writer.post(CREATE, identified(patient.pk), headers=header).status_code == 201
    services.mark_measurement_entered_in_error(measurement=Measurement.objects.get(), by=care_manager, reason="Test.")

    with_search = writer.post(CREATE, identified(patient.pk), headers=header)
    without = writer.post(CREATE, identified(patient.pk))

    assert "marked entered in error" in outcome_of(with_search, 409)["issue"][0]["diagnostics"]
    assert "marked entered in error" in outcome_of(without, 409)["issue"][0]["diagnostics"]
    assert Measurement.objects.count() == 1


def test_an_identifier_without_a_value_is_refused(writer, patient):
    resource = questionnaire_response(patient.pk, [1] * 9, identifier={"system": SYSTEM})

    response = writer.post(CREATE, resource)

    assert outcome_of(response, 422)["issue"][0]["expression"] == ["identifier.value"]
    assert not Measurement.objects.exists()


def test_the_read_and_everything_give_the_identifier(writer, reader, patient):
    created = writer.post(CREATE, identified(patient.pk, "r-1"))
    bare = writer.post(CREATE, identified(patient.pk, "r-2", system=""))

    read = validated(reader.get(f"/fhir/QuestionnaireResponse/{created.json()['id']}").json())
    read_bare = validated(reader.get(f"/fhir/QuestionnaireResponse/{bare.json()['id']}").json())
    with CaptureQueriesContext(connection) as queries:
        everything = validated(reader.get(f"/fhir/Patient/{patient.pk}/$everything").json())

    assert read["identifier"] == {"system": SYSTEM, "value": "r-1"}
    assert read_bare["identifier"] == {"value": "r-2"}
    answers = [e["resource"] for e in everything["entry"] if e["resource"]["resourceType"] == "QuestionnaireResponse"]
    assert sorted(r["identifier"]["value"] for r in answers) == ["r-1", "r-2"]
    assert len(queries) == 7  # as without identifiers (test_read.py): fetched with the scores


def test_metadata_declares_conditional_create_of_questionnaire_responses(client):
    statement = validated(client.get("/fhir/metadata").json())

    (declared,) = [r for r in statement["rest"][0]["resource"] if r["type"] == "QuestionnaireResponse"]
    assert declared["conditionalCreate"] is True


# --- Two posts at once --------------------------------------------------------------------


@pytest.fixture
def raced(monkeypatch):
    """The other post stores its score between this post's look for it and its insert: the look
    misses once, and the unique key is what refuses the second score."""
    look = submissions.stored_response
    missed = []

    def look_too_early(**kwargs):
        if not missed:
            missed.append(kwargs["search"])
            return None
        return look(**kwargs)

    monkeypatch.setattr(submissions, "stored_response", look_too_early)
    return missed


@pytest.mark.parametrize(("header", "status"), [(if_none_exist(f"identifier={SYSTEM}|r-1"), 200), ({}, 409)])
def test_the_unique_key_refuses_a_second_score_that_the_look_missed(writer, patient, raced, header, status):
    first = writer.post(CREATE, identified(patient.pk), headers=header)
    raced.clear()

    second = writer.post(CREATE, identified(patient.pk), headers=header)

    assert raced, "the look was bypassed"
    assert (first.status_code, second.status_code) == (201, status), second.content
    if status == 200:
        assert validated(second.json())["id"] == first.json()["id"]
    assert Measurement.objects.count() == 1
    assert Flag.objects.filter(kind=Flag.Kind.SAFETY).count() == 1


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_the_same_response_posted_twice_at_the_same_instant_is_stored_once(writer, patient):
    header = if_none_exist(f"identifier={SYSTEM}|r-1")
    apis = [Api(Client(), writer.token) for _ in range(2)]

    responses = post_at_once([lambda api=api: api.post(CREATE, identified(patient.pk), headers=header) for api in apis])

    assert sorted(r.status_code for r in responses) == [200, 201], [r.content for r in responses]
    assert responses[0].json()["id"] == responses[1].json()["id"]
    assert Measurement.objects.count() == 1
    assert ResponseIdentifier.objects.count() == 1
