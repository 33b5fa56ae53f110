"""A FHIR client library from PyPI (fhirpy) against the live server: its searches, its paging
(it follows the Bundle's next links), its count (which sends a parameter only its own server
knows, so it works only because handling is lenient), and strict handling when asked for."""

import pytest
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import OperationOutcome

from fhirapi.tests.conftest import days_ago, issue
from tests.factories import record_score

pytestmark = pytest.mark.django_db(transaction=True)

PHQ9_TOTAL = "http://loinc.org|44261-6"


@pytest.fixture
def scores(patient, care_manager):
    """Seven PHQ-9 and two GAD-7 scores, on distinct days."""
    episode = patient.episodes.get()
    phq9 = [record_score(episode, "PHQ9", 5 + n, days_ago(50 - 5 * n), care_manager) for n in range(7)]
    gad7 = [record_score(episode, "GAD7", 4 + n, days_ago(33 - n), care_manager) for n in range(2)]
    return phq9, gad7


@pytest.fixture
def fhir(live_server, clinic):
    return SyncFHIRClient(f"{live_server.url}/fhir", authorization=f"Bearer {issue(clinic)[1]}")


def test_the_library_pages_through_every_score_with_a_small_count(fhir, patient, scores):
    phq9, _ = scores

    observations = fhir.resources("Observation").search(patient=patient.pk, code=PHQ9_TOTAL).limit(2).fetch_all()

    # newest first, over four pages of two, none twice, none left out
    assert [int(o.id) for o in observations] == [m.pk for m in reversed(phq9)]


def test_the_library_sorts_by_date_and_filters_a_date_range(fhir, patient, scores):

    oldest_first = fhir.resources("Observation").search(patient=patient.pk).sort("date").limit(3).fetch_all()
    in_range = (
        fhir.resources("Observation")
        .search(patient=patient.pk, date=[f"ge{days_ago(40).isoformat()}", f"lt{days_ago(25).isoformat()}"])
        .fetch_all()
    )

    assert [o.effectiveDateTime for o in oldest_first] == sorted(o.effectiveDateTime for o in oldest_first)
    assert len(oldest_first) == 9
    assert {o.effectiveDateTime for o in in_range} == {days_ago(d).isoformat() for d in (40, 35, 30, 33, 32)}


def test_the_library_counts_with_a_parameter_we_do_not_know_thanks_to_lenient_handling(fhir, patient, scores):
    # fhirpy's count() sends _count=0 and _totalMethod=count (a parameter of another server).
    assert fhir.resources("Observation").search(patient=patient.pk, category="survey").count() == 9
    assert fhir.resources("Observation").search(patient=patient.pk, category="laboratory").count() == 0


def test_the_library_searches_questionnaire_responses_and_patients(fhir, patient, scores):
    _, gad7 = scores

    responses = fhir.resources("QuestionnaireResponse").search(
        patient=f"Patient/{patient.pk}", questionnaire="http://loinc.org/q/69737-5"
    )
    found = fhir.resources("Patient").search(identifier="N-0001").first()

    assert {int(r.id) for r in responses.fetch_all()} == {m.pk for m in gad7}
    assert found.id == str(patient.pk) and found.identifier[0].value == "N-0001"


def test_with_strict_handling_the_library_gets_an_operation_outcome_naming_the_parameter(
    live_server, clinic, patient, scores
):
    strict = SyncFHIRClient(
        f"{live_server.url}/fhir",
        authorization=f"Bearer {issue(clinic, name='Strict')[1]}",
        extra_headers={"Prefer": "handling=strict"},
    )

    with pytest.raises(OperationOutcome) as refused:
        strict.resources("Observation").search(patient=patient.pk, performer="Practitioner/1").fetch()
    allowed = strict.resources("Observation").search(patient=patient.pk, code=PHQ9_TOTAL).limit(3).fetch_all()

    assert "'performer' is not supported" in str(refused.value)
    assert len(allowed) == 7
