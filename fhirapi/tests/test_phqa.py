"""The PHQ-A over FHIR (docs/fhir.md#resources): a QuestionnaireResponse in (panel 89206-7,
items item-1..item-9 with the PHQ's LOINC answer codes, the difficulty question), scored and
flagged on item 9; out again with the total's LOINC code 89204-2."""

import pytest

from fhirapi.tests.conftest import days_ago, validated
from registry.instruments.base import FREQUENCY_ANSWER_LOINC
from registry.models import Flag, Measurement, RegistrySettings

pytestmark = pytest.mark.django_db

PHQA_URL = "http://loinc.org/q/89206-7"
CREATE = "/fhir/QuestionnaireResponse"


@pytest.fixture(autouse=True)
def phqa_on(clinic):
    RegistrySettings.objects.create(clinic=clinic, enabled_instruments=["PHQA"])


def coded(link_id: str, answer: int) -> dict:
    return {
        "linkId": link_id,
        "answer": [{"valueCoding": {"system": "http://loinc.org", "code": FREQUENCY_ANSWER_LOINC[answer]}}],
    }


def phqa_response(patient_pk: int, answers: list[int], **extra) -> dict:
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": PHQA_URL,
        "status": "completed",
        "subject": {"reference": f"Patient/{patient_pk}"},
        "authored": days_ago(1).isoformat(),
        "item": [coded(f"item-{number}", answer) for number, answer in enumerate(answers, start=1)]
        + extra.pop("more", []),
        **extra,
    }


def test_a_posted_phqa_is_scored_flagged_on_item_9_and_read_back_with_its_loinc_codes(writer, reader, patient):
    answers = [2, 2, 2, 1, 1, 1, 1, 0, 2]  # 12, item 9 = 2
    difficulty = {"linkId": "difficulty", "answer": [{"valueInteger": 1}]}

    created = writer.post(CREATE, phqa_response(patient.pk, answers, more=[difficulty]))

    assert created.status_code == 201, created.content
    stored = Measurement.objects.get()
    assert (stored.instrument, stored.total, stored.band, stored.item_9, stored.difficulty) == (
        "PHQA",
        12,
        "moderate",
        2,
        1,
    )
    assert Flag.objects.get(kind=Flag.Kind.SAFETY).measurement == stored
    response = validated(reader.get(f"/fhir/QuestionnaireResponse/{stored.pk}").json())
    assert response["questionnaire"] == PHQA_URL
    assert [(i["linkId"], i["answer"][0]["valueCoding"]["code"]) for i in response["item"][:9]] == [
        (f"item-{n}", FREQUENCY_ANSWER_LOINC[a]) for n, a in enumerate(answers, start=1)
    ]
    assert response["item"][9]["linkId"] == "difficulty"
    observation = validated(reader.get(f"/fhir/Observation/{stored.pk}").json())
    assert observation["code"]["coding"] == [{"system": "http://loinc.org", "code": "89204-2"}]
    found = validated(
        reader.get("/fhir/Observation", {"patient": patient.pk, "code": "http://loinc.org|89204-2"}).json()
    )
    assert [e["resource"]["id"] for e in found["entry"]] == [str(stored.pk)]


def test_a_phqa_missing_an_item_is_refused(writer, patient):
    response = writer.post(CREATE, phqa_response(patient.pk, [0] * 8))

    assert response.status_code == 422
    assert "Item 9 (item-9) of the PHQ-A is missing" in response.content.decode()
    assert not Measurement.objects.exists()
