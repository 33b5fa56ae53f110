"""What the interface refuses before doing any work, and how: bodies too large or too deep,
too many requests; each refusal an OperationOutcome with its status and a call-log row."""

import json
import os

import pytest
import redis
from django.core.cache import cache

from fhirapi import resources
from fhirapi.limits import json_depth
from fhirapi.models import ApiCallLog
from fhirapi.tests.conftest import Api, issue, validated
from fhirapi.tests.test_create import CREATE, questionnaire_response
from registry.models import Measurement

pytestmark = pytest.mark.django_db


def outcome(response, status: int) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/fhir+json")
    return validated(response.json())


def last_call() -> ApiCallLog:
    return ApiCallLog.objects.order_by("-pk").first()


def test_a_body_of_a_thousand_nested_brackets_is_a_400_and_is_logged(writer, patient):
    response = writer.post(CREATE, "[" * 1000)

    assert "nested more than 64 levels" in outcome(response, 400)["issue"][0]["diagnostics"]
    assert (last_call().status_code, last_call().path) == (400, CREATE)
    assert not Measurement.objects.exists()


def test_json_nested_just_within_the_cap_is_parsed_and_just_beyond_is_refused(writer, patient, settings):
    settings.CAREREG_FHIR_MAX_JSON_DEPTH = 8
    within = writer.post(CREATE, json.dumps(questionnaire_response(patient.pk, [1] * 9)))
    beyond = writer.post(CREATE, json.dumps({"resourceType": "QuestionnaireResponse", "x": [[[[[[[[1]]]]]]]]}))

    assert within.status_code == 201
    assert outcome(beyond, 400)["issue"][0]["code"] == "too-costly"


def test_brackets_inside_strings_do_not_count_as_nesting():
    assert json_depth('{"a": "[[[[[[[[[[{{{{\\"]]]]", "b": [1, {"c": "]"}]}') == 3


def test_a_body_over_django_s_upload_limit_is_a_413_operation_outcome_not_an_html_400(writer, patient):
    body = json.dumps({"resourceType": "QuestionnaireResponse", "padding": "x" * 3_000_000})

    response = writer.post(CREATE, body)

    assert "larger than 1,000,000 bytes" in outcome(response, 413)["issue"][0]["diagnostics"]
    assert last_call().status_code == 413
    assert not Measurement.objects.exists()


def test_a_body_over_the_cap_is_refused_before_it_is_read(writer, patient, settings):
    settings.CAREREG_FHIR_MAX_BODY_BYTES = 1000
    resource = questionnaire_response(patient.pk, [1] * 9)

    response = writer.post(CREATE, json.dumps(resource))

    assert outcome(response, 413)["issue"][0]["code"] == "too-costly"
    assert not Measurement.objects.exists()


def test_a_form_search_over_the_cap_is_a_413_and_logged_without_its_fields(reader, patient, settings):
    settings.CAREREG_FHIR_MAX_BODY_BYTES = 100
    response = reader.http.post(
        "/fhir/Patient/_search",
        {"identifier": "N-0001", "padding": "x" * 200},
        HTTP_AUTHORIZATION=f"Bearer {reader.token}",
    )

    outcome(response, 413)
    assert (last_call().status_code, last_call().parameters) == (413, "")


def test_a_client_over_its_rate_gets_429_with_retry_after_and_others_do_not(client, clinic, patient, settings):
    settings.CAREREG_FHIR_RATE_PER_CLIENT = 3
    busy, quiet = Api(client, issue(clinic, name="Busy")[1]), Api(client, issue(clinic, name="Quiet")[1])

    statuses = [busy.get(f"/fhir/Patient/{patient.pk}").status_code for _ in range(4)]
    refused = busy.get(f"/fhir/Patient/{patient.pk}")

    assert statuses == [200, 200, 200, 429]
    assert outcome(refused, 429)["issue"][0]["code"] == "throttled"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert quiet.get(f"/fhir/Patient/{patient.pk}").status_code == 200
    assert last_call().status_code == 200 and ApiCallLog.objects.filter(status_code=429).count() == 2


def test_an_address_over_its_rate_gets_429_even_without_a_token(client, settings):
    settings.CAREREG_FHIR_RATE_PER_ADDRESS = 2

    guesses = [client.get("/fhir/Patient/1", REMOTE_ADDR="203.0.113.9").status_code for _ in range(3)]
    elsewhere = client.get("/fhir/Patient/1", REMOTE_ADDR="198.51.100.4")

    assert guesses == [401, 401, 429]
    assert elsewhere.status_code == 401
    assert ApiCallLog.objects.filter(status_code=429, remote_addr="203.0.113.9").count() == 1


@pytest.fixture
def redis_cache(settings):
    """The production set-up: Django's cache on Redis (the test's own database number)."""
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}
    cache.clear()
    yield redis.Redis.from_url(url)
    cache.clear()


def test_the_counts_are_kept_in_redis_where_every_web_process_adds_to_them(reader, patient, settings, redis_cache):
    settings.CAREREG_FHIR_RATE_PER_CLIENT = 5
    assert reader.get(f"/fhir/Patient/{patient.pk}").status_code == 200
    [key] = redis_cache.keys("*fhir-rate:client:*")
    assert int(redis_cache.get(key)) == 1

    redis_cache.incrby(key, 4)  # four calls answered by other web processes this minute

    assert outcome(reader.get(f"/fhir/Patient/{patient.pk}"), 429)["issue"][0]["code"] == "throttled"


def test_an_unknown_url_under_the_base_is_a_logged_404_operation_outcome(reader):
    response = reader.get("/fhir/Medication/12")

    assert outcome(response, 404)["issue"][0]["code"] == "not-found"
    assert (last_call().path, last_call().status_code) == ("/fhir/Medication/12", 404)


def test_a_server_error_is_a_500_operation_outcome_and_logged(reader, patient, monkeypatch):
    def broken(*args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(resources, "patient", broken)

    response = reader.get(f"/fhir/Patient/{patient.pk}")

    assert outcome(response, 500)["issue"][0]["code"] == "exception"
    assert "a bug" not in response.content.decode()
    assert last_call().status_code == 500
