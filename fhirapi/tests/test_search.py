"""Searches as FHIR clients send them (R4 search page): lenient and strict handling, _count
pages over a stable order, _sort, _summary=count, date prefixes, category, and the
QuestionnaireResponse search. The FHIR client library's view of the same is in test_fhir_client.py."""

import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from fhirapi.models import ApiCallLog
from fhirapi.tests.conftest import days_ago, enroll, validated
from tests.factories import UserFactory, record_score

pytestmark = pytest.mark.django_db

PHQ9_TOTAL = "http://loinc.org|44261-6"
STRICT = {"Prefer": "handling=strict"}


@pytest.fixture
def five_scores(patient, care_manager):
    """PHQ-9 on five days, oldest first: 40, 30, 20, 10 and 2 days ago (two on the last day)."""
    episode = patient.episodes.get()
    days = [40, 30, 20, 10, 2]
    scores = [record_score(episode, "PHQ9", 10 + n, days_ago(d), care_manager) for n, d in enumerate(days)]
    scores.append(record_score(episode, "PHQ9", 5, days_ago(2), care_manager))
    return scores


def get(api, path, params, headers=None):
    """A search with the reader's token; params a dict, or pairs to repeat a parameter."""
    query = urlencode(params) if isinstance(params, list) else params
    if isinstance(params, list):
        return api.http.get(f"{path}?{query}", headers=headers, HTTP_AUTHORIZATION=f"Bearer {api.token}")
    return api.http.get(path, params, headers=headers, HTTP_AUTHORIZATION=f"Bearer {api.token}")


def ids(bundle) -> list[int]:
    return [int(e["resource"]["id"]) for e in bundle.get("entry", [])]


def link(bundle, relation: str) -> str | None:
    return next((item["url"] for item in bundle.get("link", []) if item["relation"] == relation), None)


def query_of(url: str) -> dict:
    return dict(parse_qsl(urlsplit(url).query))


def follow(api, url: str) -> dict:
    parts = urlsplit(url)
    return validated(get(api, parts.path, dict(parse_qsl(parts.query))).json())


def test_the_issues_search_with_count_is_answered_not_refused(reader, patient, five_scores):
    response = get(reader, "/fhir/Observation", {"patient": patient.pk, "code": PHQ9_TOTAL, "_count": 100})

    assert response.status_code == 200
    assert validated(response.json())["total"] == 6


def test_count_pages_follow_next_and_previous_links_over_a_stable_order(reader, patient, five_scores):
    first = validated(get(reader, "/fhir/Observation", {"patient": patient.pk, "_count": 2}).json())
    second = follow(reader, link(first, "next"))
    third = follow(reader, link(second, "next"))
    back = follow(reader, link(third, "previous"))

    newest_first = sorted(five_scores, key=lambda m: (m.taken_on, m.pk), reverse=True)
    assert ids(first) + ids(second) + ids(third) == [m.pk for m in newest_first]
    assert first["total"] == second["total"] == 6
    assert link(third, "next") is None and link(first, "previous") is None
    assert ids(back) == ids(second)
    assert query_of(link(first, "last")) | {"patient": ""} == {"patient": "", "_count": "2", "_offset": "4"}
    assert query_of(link(second, "self")) == {"patient": str(patient.pk), "_count": "2", "_offset": "2"}


def test_a_count_over_the_maximum_is_lowered_and_the_self_link_says_so(reader, patient, five_scores, settings):
    settings.CAREREG_FHIR_MAX_COUNT = 4

    bundle = validated(get(reader, "/fhir/Observation", {"patient": patient.pk, "_count": 1000}).json())

    assert len(ids(bundle)) == 4 and bundle["total"] == 6
    assert query_of(link(bundle, "self"))["_count"] == "4"
    assert link(bundle, "next") is not None


def test_without_count_a_page_is_the_default_size(reader, patient, five_scores, settings):
    settings.CAREREG_FHIR_PAGE_SIZE = 5

    bundle = validated(get(reader, "/fhir/Observation", {"patient": patient.pk}).json())

    assert len(ids(bundle)) == 5 and query_of(link(bundle, "next"))["_offset"] == "5"


@pytest.mark.parametrize(("sort", "oldest_first"), [("date", True), ("-date", False)])
def test_sort_by_date_either_way_with_the_id_breaking_ties(reader, patient, five_scores, sort, oldest_first):
    bundle = validated(get(reader, "/fhir/Observation", {"patient": patient.pk, "_sort": sort}).json())

    expected = sorted(five_scores, key=lambda m: (m.taken_on, m.pk), reverse=not oldest_first)
    assert ids(bundle) == [m.pk for m in expected]
    assert query_of(link(bundle, "self"))["_sort"] == sort


@pytest.mark.parametrize("params", [{"_summary": "count"}, {"_count": "0"}])
def test_summary_count_gives_the_total_and_no_entries(reader, patient, five_scores, params):
    bundle = validated(get(reader, "/fhir/Observation", {"patient": patient.pk, **params}).json())

    assert bundle["total"] == 6
    assert "entry" not in bundle
    assert [item["relation"] for item in bundle["link"]] == ["self"]
    assert query_of(link(bundle, "self"))["_summary"] == "count"


@pytest.mark.parametrize(
    ("dates", "expected_days"),
    [
        ([("", 20)], [20]),
        ([("eq", 20)], [20]),
        ([("ge", 20)], [20, 10, 2, 2]),
        ([("gt", 20)], [10, 2, 2]),
        ([("le", 20)], [20, 30, 40]),
        ([("lt", 20)], [30, 40]),
        ([("ge", 30), ("lt", 10)], [20, 30]),
    ],
)
def test_date_prefixes_select_the_days_as_r4_says(reader, patient, five_scores, dates, expected_days):
    params = [("patient", patient.pk)] + [("date", f"{prefix}{days_ago(days).isoformat()}") for prefix, days in dates]

    bundle = validated(get(reader, "/fhir/Observation", params).json())

    days = sorted(e["resource"]["effectiveDateTime"] for e in bundle["entry"])
    assert days == sorted(days_ago(d).isoformat() for d in expected_days)


def test_a_month_or_a_year_is_a_range_and_an_instant_is_a_moment(reader, patient, care_manager):
    first = days_ago(0).replace(day=1)  # the first of this month, and the last day of the one before
    last = first - datetime.timedelta(days=1)
    episode = patient.episodes.get()
    record_score(episode, "PHQ9", 10, last, care_manager)
    record_score(episode, "PHQ9", 11, first, care_manager)

    def days(value):
        bundle = validated(get(reader, "/fhir/Observation", {"patient": patient.pk, "date": value}).json())
        return sorted(e["resource"]["effectiveDateTime"] for e in bundle.get("entry", []))

    assert days(f"{last:%Y-%m}") == [last.isoformat()]
    assert days(f"gt{last:%Y-%m}") == [first.isoformat()]
    assert days(f"{first:%Y}") == sorted(
        {last.isoformat(), first.isoformat()} if last.year == first.year else {first.isoformat()}
    )
    # 05:00Z on the first is still the day before in the clinic (Los Angeles): that day reaches past it.
    assert days(f"gt{first}T05:00:00Z") == [last.isoformat(), first.isoformat()]
    assert days(f"lt{first}T05:00:00Z") == [last.isoformat()]


@pytest.mark.parametrize("value", ["ne2026-01-01", "2026-13-01", "yesterday", "ge2026-02-30", "2026-01-01T10:00+25:00"])
def test_an_unusable_date_is_a_400_lenient_or_not(reader, patient, value):
    response = get(reader, "/fhir/Observation", {"patient": patient.pk, "date": value})

    assert response.status_code == 400
    assert validated(response.json())["issue"][0]["code"] == "invalid"


@pytest.mark.parametrize(
    ("category", "matches"),
    [
        ("survey", True),
        ("http://terminology.hl7.org/CodeSystem/observation-category|survey", True),
        ("laboratory", False),
        ("vital-signs,survey", True),
    ],
)
def test_category_survey_matches_every_score_and_another_none(reader, patient, five_scores, category, matches):
    bundle = validated(get(reader, "/fhir/Observation", {"patient": patient.pk, "category": category}).json())

    assert bundle["total"] == (6 if matches else 0)


def test_lenient_by_default_unknown_parameters_are_ignored_and_left_out_of_the_self_link(reader, patient, five_scores):
    params = {"patient": patient.pk, "_elements": "id", "performer": "Practitioner/1", "_sort": "value", "_count": 3}

    response = get(reader, "/fhir/Observation", params)

    bundle = validated(response.json())
    assert bundle["total"] == 6
    assert query_of(link(bundle, "self")) == {"patient": str(patient.pk), "_count": "3"}
    assert ApiCallLog.objects.get().parameters == "_count,_elements,_sort,patient,performer"


def test_strict_handling_refuses_each_unknown_parameter_by_name_without_its_value(reader, patient, five_scores):
    params = {"patient": patient.pk, "performer": "Practitioner/Secret", "_sort": "value"}

    response = get(reader, "/fhir/Observation", params, headers=STRICT)

    assert response.status_code == 400
    issues = [issue["diagnostics"] for issue in validated(response.json())["issue"]]
    assert any("'performer' is not supported on Observation" in issue for issue in issues)
    assert any("_sort by 'value' is not supported" in issue for issue in issues)
    assert "Secret" not in response.content.decode()


def test_strict_handling_accepts_every_supported_parameter(reader, patient, five_scores):
    params = {
        "patient": patient.pk,
        "code": PHQ9_TOTAL,
        "category": "survey",
        "date": f"ge{days_ago(30).isoformat()}",
        "_sort": "-date",
        "_count": 2,
        "_format": "json",
    }

    response = get(reader, "/fhir/Observation", params, headers={"Prefer": "return=representation, handling=strict"})

    assert response.status_code == 200
    assert validated(response.json())["total"] == 5


def test_questionnaire_responses_are_searched_by_patient_date_and_questionnaire(
    reader, patient, care_manager, five_scores
):
    gad7 = record_score(patient.episodes.get(), "GAD7", 8, days_ago(3), care_manager)

    everything = validated(get(reader, "/fhir/QuestionnaireResponse", {"patient": f"Patient/{patient.pk}"}).json())
    gad7_only = validated(
        get(
            reader,
            "/fhir/QuestionnaireResponse",
            {"subject": patient.pk, "questionnaire": "http://loinc.org/q/69737-5", "authored": f"ge{days_ago(5)}"},
        ).json()
    )

    assert everything["total"] == 7
    assert {e["resource"]["resourceType"] for e in everything["entry"]} == {"QuestionnaireResponse"}
    assert ids(gad7_only) == [gad7.pk]


def test_questionnaire_response_search_of_another_clinics_patient_is_not_found(reader, other_clinic):
    south_cm = UserFactory(username="south-cm", clinics=[other_clinic])
    theirs = enroll(other_clinic, south_cm, "S-0001")

    response = get(reader, "/fhir/QuestionnaireResponse", {"patient": theirs.pk})

    assert response.status_code == 404


def test_patient_search_by_identifier_pages_and_counts_as_the_others(reader, patient):
    bundle = validated(get(reader, "/fhir/Patient", {"identifier": "N-0001", "_count": 5}).json())
    counted = validated(get(reader, "/fhir/Patient", {"identifier": "N-0001", "_summary": "count"}).json())

    assert ids(bundle) == [patient.pk]
    assert query_of(link(bundle, "self")) == {"identifier": "N-0001", "_count": "5"}
    assert counted["total"] == 1 and "entry" not in counted


def test_patient_search_by_post_keeps_the_mrn_out_of_every_link(reader, patient):
    response = reader.http.post(
        "/fhir/Patient/_search", {"identifier": "N-0001", "_count": "5"}, HTTP_AUTHORIZATION=f"Bearer {reader.token}"
    )

    bundle = validated(response.json())
    assert ids(bundle) == [patient.pk]
    assert [item["relation"] for item in bundle["link"]] == ["self"]
    assert "N-0001" not in str(bundle["link"])


def test_capability_statement_lists_each_resources_search_parameters_and_the_count_maximum(client, settings):
    settings.CAREREG_FHIR_MAX_COUNT = 250

    statement = validated(client.get("/fhir/metadata").json())

    by_type = {r["type"]: r for r in statement["rest"][0]["resource"]}
    names = {t: [p["name"] for p in r.get("searchParam", [])] for t, r in by_type.items()}
    assert names["Observation"] == ["patient", "subject", "code", "category", "date", "_count", "_sort", "_summary"]
    assert names["QuestionnaireResponse"][:4] == ["patient", "subject", "questionnaire", "authored"]
    assert names["Patient"] == ["identifier", "_count", "_summary"]
    count = next(p for p in by_type["Observation"]["searchParam"] if p["name"] == "_count")
    assert "at most 250" in count["documentation"]
    assert {"code": "search-type"} in by_type["QuestionnaireResponse"]["interaction"]
