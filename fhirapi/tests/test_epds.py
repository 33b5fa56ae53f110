"""The EPDS over FHIR (docs/fhir.md#resources): a QuestionnaireResponse in (panel 71354-5,
answers as integers on item-N linkIds), scored and flagged by the registry; out again as a
QuestionnaireResponse and an Observation with the total's LOINC code 99046-5, and in $export."""

import pytest

from fhirapi.tests.conftest import days_ago, validated
from fhirapi.tests.test_bulk_export import download, kick_off, status_path
from registry.models import Flag, Measurement, RegistrySettings

pytestmark = pytest.mark.django_db

EPDS_URL = "http://loinc.org/q/71354-5"
CREATE = "/fhir/QuestionnaireResponse"


@pytest.fixture(autouse=True)
def epds_on(clinic, settings, tmp_path):
    settings.CAREREG_BULK_EXPORT_DIR = str(tmp_path / "bulk")
    RegistrySettings.objects.create(clinic=clinic, enabled_instruments=["EPDS"])


def epds_response(patient_pk: int, answers: list[int]) -> dict:
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": EPDS_URL,
        "status": "completed",
        "subject": {"reference": f"Patient/{patient_pk}"},
        "authored": days_ago(1).isoformat(),
        "item": [
            {"linkId": f"item-{number}", "answer": [{"valueInteger": answer}]}
            for number, answer in enumerate(answers, start=1)
        ],
    }


def test_a_posted_epds_is_scored_flagged_on_item_10_and_read_back_with_its_loinc_codes(writer, reader, patient):
    answers = [1, 1, 2, 1, 1, 1, 1, 1, 1, 1]  # 11, item 10 = 1

    created = writer.post(CREATE, epds_response(patient.pk, answers))

    assert created.status_code == 201, created.content
    stored = Measurement.objects.get()
    assert (stored.instrument, stored.total, stored.band, stored.item_10) == ("EPDS", 11, "possible depression", 1)
    assert Flag.objects.get(kind=Flag.Kind.SAFETY).measurement == stored
    response = validated(reader.get(f"/fhir/QuestionnaireResponse/{stored.pk}").json())
    assert response["questionnaire"] == EPDS_URL
    assert [(i["linkId"], i["answer"][0]["valueInteger"]) for i in response["item"]] == [
        (f"item-{n}", a) for n, a in enumerate(answers, start=1)
    ]
    observation = validated(reader.get(f"/fhir/Observation/{stored.pk}").json())
    assert observation["code"]["coding"] == [{"system": "http://loinc.org", "code": "99046-5"}]
    assert observation["valueQuantity"]["value"] == 11
    found = validated(
        reader.get("/fhir/Observation", {"patient": patient.pk, "code": "http://loinc.org|99046-5"}).json()
    )
    assert [e["resource"]["id"] for e in found["entry"]] == [str(stored.pk)]


def test_an_epds_answer_out_of_range_is_refused_with_its_item(writer, patient):
    response = writer.post(CREATE, epds_response(patient.pk, [0] * 9 + [4]))

    assert response.status_code == 422
    assert "item-10" in response.content.decode()
    assert not Measurement.objects.exists()


def test_the_bulk_export_includes_the_epds(reader, writer, patient, django_capture_on_commit_callbacks):
    writer.post(CREATE, epds_response(patient.pk, [0] * 10))
    stored = Measurement.objects.get()

    manifest = reader.get(status_path(kick_off(reader, run=django_capture_on_commit_callbacks))).json()

    files = {o["type"]: download(reader, o["url"]) for o in manifest["output"]}
    assert [o["code"]["coding"][0]["code"] for o in files["Observation"]] == ["99046-5"]
    assert [(q["id"], len(q["item"])) for q in files["QuestionnaireResponse"]] == [(str(stored.pk), 10)]
