"""Turning a posted QuestionnaireResponse into the registry's Answers (no database)."""

import datetime
import zoneinfo

import pytest
from django.utils import timezone

from fhirapi.parse import parse_questionnaire_response
from fhirapi.responses import FhirError
from registry.scoring import ANSWER_LOINC, PHQ9


def phq9(answers, **extra) -> dict:
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": "http://loinc.org/q/44249-1|2.74",
        "status": "completed",
        "subject": {"reference": "https://ehr.example/fhir/Patient/42"},
        "authored": "2024-03-01T23:30:00-08:00",
        "item": [
            {"linkId": code, "answer": [{"valueCoding": {"system": "http://loinc.org", "code": ANSWER_LOINC[a]}}]}
            for code, a in zip(PHQ9.item_loinc, answers, strict=True)
        ],
        **extra,
    }


def test_a_complete_phq9_becomes_answers_for_the_registry():
    parsed = parse_questionnaire_response(phq9([0, 1, 2, 3, 0, 1, 2, 3, 1]))

    assert parsed.issues == []
    assert parsed.patient_id == 42
    answers = parsed.to_answers()
    assert (answers.instrument, answers.answers, answers.difficulty) == ("PHQ9", [0, 1, 2, 3, 0, 1, 2, 3, 1], None)


def test_authored_with_an_offset_is_the_clinics_calendar_day():
    resource = phq9([0] * 9)

    with timezone.override(zoneinfo.ZoneInfo("America/New_York")):
        in_new_york = parse_questionnaire_response(resource).authored
    with timezone.override(zoneinfo.ZoneInfo("America/Los_Angeles")):
        in_los_angeles = parse_questionnaire_response(resource).authored

    assert in_new_york == datetime.date(2024, 3, 2)  # 23:30 in LA is 02:30 next day in New York
    assert in_los_angeles == datetime.date(2024, 3, 1)


def test_items_inside_a_group_are_read():
    resource = phq9([1] * 9)
    resource["item"] = [{"linkId": "phq9-group", "item": resource["item"]}]

    parsed = parse_questionnaire_response(resource)

    assert parsed.issues == []
    assert parsed.answers == [1] * 9


def test_the_difficulty_question_is_not_part_of_the_gad7():
    resource = {
        **phq9([0] * 9),
        "questionnaire": "http://loinc.org/q/69737-5",
        "item": [{"linkId": "69722-7", "answer": [{"valueInteger": 1}]}],
    }

    parsed = parse_questionnaire_response(resource)

    assert "Unknown item '69722-7' for the GAD-7." in [issue.diagnostics for issue in parsed.issues]


@pytest.mark.parametrize("body", [[], "text", {"resourceType": "Observation"}])
def test_anything_but_a_questionnaire_response_is_a_400(body):
    with pytest.raises(FhirError) as raised:
        parse_questionnaire_response(body)

    assert raised.value.status == 400
