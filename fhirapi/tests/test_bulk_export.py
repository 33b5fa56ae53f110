"""Bulk Data export (FHIR Bulk Data Access v2): kick-off, status, manifest, files, cancel,
retention, scopes and clinics, with the export run in-process (the task, called on commit).
The same through a real Redis broker and Celery worker is in test_bulk_export_worker.py."""

import datetime
import json
import tracemalloc
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from fhirapi import bulk, resources
from fhirapi.exports import cancel_export
from fhirapi.models import ApiCallLog, ApiClient, BulkExport
from fhirapi.tests.conftest import Api, days_ago, enroll, issue
from patients.models import Patient
from registry import services
from tests.factories import UserFactory, record_score

pytestmark = pytest.mark.django_db

ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.CAREREG_BULK_EXPORT_DIR = str(tmp_path / "bulk")
    return tmp_path / "bulk"


@pytest.fixture
def registry(clinic, care_manager, other_clinic):
    """Two patients of ours with three scores (one a total only), one entered in error; one of
    another clinic."""
    first = enroll(clinic, care_manager, "N-0001")
    second = enroll(clinic, care_manager, "N-0002", first_name="Berit")
    scores = [
        record_score(first.episodes.get(), "PHQ9", 12, days_ago(20), care_manager),
        record_score(second.episodes.get(), "GAD7", 9, days_ago(10), care_manager),
    ]
    scores.append(
        services.record_total_only_measurement(
            episode=second.episodes.get(), instrument_code="PHQ9", total=14, taken_on=days_ago(15), by=care_manager
        )
    )
    wrong = record_score(first.episodes.get(), "PHQ9", 3, days_ago(5), care_manager)
    services.mark_measurement_entered_in_error(measurement=wrong, by=care_manager, reason="Wrong patient.")
    south_cm = UserFactory(username="south-cm", clinics=[other_clinic])
    theirs = enroll(other_clinic, south_cm, "S-0001", first_name="Quentin")
    record_score(theirs.episodes.get(), "PHQ9", 20, days_ago(3), south_cm)
    return [first, second], scores


def kick_off(api, path="/fhir/Patient/$export", params=None, headers=None, *, run=None):
    """The kick-off request; `run` (django_capture_on_commit_callbacks) runs the queued export."""
    send = lambda: api.http.get(  # noqa: E731
        path, params or {}, headers={**ASYNC, **(headers or {})}, HTTP_AUTHORIZATION=f"Bearer {api.token}"
    )
    if run is None:
        return send()
    with run(execute=True):
        return send()


def status_path(response) -> str:
    return urlsplit(response["Content-Location"]).path


def download(api, url: str) -> list[dict]:
    response = api.get(urlsplit(url).path)
    assert response.status_code == 200, response
    assert response["Content-Type"] == "application/fhir+ndjson"
    lines = b"".join(response.streaming_content).decode().splitlines()
    return [json.loads(line) for line in lines]


def test_patient_export_writes_one_ndjson_file_per_type_and_a_manifest(
    reader, registry, django_capture_on_commit_callbacks
):
    (first, second), (phq9, gad7, total_only) = registry

    started = kick_off(reader, run=django_capture_on_commit_callbacks)
    manifest_response = reader.get(status_path(started))

    assert started.status_code == 202
    assert started["Content-Location"].startswith("http://testserver/fhir/bulk-export/")
    assert manifest_response.status_code == 200
    manifest = manifest_response.json()
    assert manifest["request"] == "http://testserver/fhir/Patient/$export"
    assert manifest["requiresAccessToken"] is True and manifest["error"] == []
    assert datetime.datetime.fromisoformat(manifest["transactionTime"]) <= timezone.now()
    assert manifest_response["Expires"]
    assert [(o["type"], o["count"]) for o in manifest["output"]] == [
        ("Patient", 2),
        ("Observation", 3),
        ("QuestionnaireResponse", 2),
    ]
    files = {o["type"]: download(reader, o["url"]) for o in manifest["output"]}
    for kind, found in files.items():
        for resource in found:
            get_fhir_model_class(kind).model_validate(resource)
    assert {p["id"] for p in files["Patient"]} == {str(first.pk), str(second.pk)}
    assert {o["id"] for o in files["Observation"]} == {str(phq9.pk), str(gad7.pk), str(total_only.pk)}
    assert {q["id"] for q in files["QuestionnaireResponse"]} == {str(phq9.pk), str(gad7.pk)}
    assert "Quentin" not in json.dumps(files)
    assert files["Observation"][0] == resources.observation(phq9, first.pk)


def test_group_export_of_the_tokens_clinic_and_404_for_another(reader, registry, django_capture_on_commit_callbacks):
    ours = kick_off(reader, "/fhir/Group/north/$export", {"_type": "Patient"}, run=django_capture_on_commit_callbacks)
    theirs = kick_off(reader, "/fhir/Group/south/$export")
    missing = kick_off(reader, "/fhir/Group/nowhere/$export")

    assert ours.status_code == 202
    manifest = reader.get(status_path(ours)).json()
    assert manifest["request"] == "http://testserver/fhir/Group/north/$export?_type=Patient"
    assert [o["type"] for o in manifest["output"]] == ["Patient"]
    assert theirs.status_code == missing.status_code == 404
    assert theirs.content.replace(b"south", b"") == missing.content.replace(b"nowhere", b"")


def test_since_exports_only_what_changed_after_it(reader, registry, care_manager, django_capture_on_commit_callbacks):
    (first, _), _ = registry
    since = timezone.now()
    newcomer = enroll(first.clinic, care_manager, "N-0003", first_name="Cosima")
    later = record_score(first.episodes.get(), "PHQ9", 8, days_ago(1), care_manager)

    started = kick_off(reader, params={"_since": since.isoformat()}, run=django_capture_on_commit_callbacks)

    manifest = reader.get(status_path(started)).json()
    files = {o["type"]: download(reader, o["url"]) for o in manifest["output"]}
    assert [p["id"] for p in files["Patient"]] == [str(newcomer.pk)]
    assert [o["id"] for o in files["Observation"]] == [str(later.pk)]


@pytest.mark.parametrize(
    ("params", "headers", "status", "says"),
    [
        ({}, {"Prefer": ""}, 400, "respond-async"),
        ({"_type": "Medication"}, {}, 400, "not Medication"),
        ({"_since": "yesterday"}, {}, 400, "_since is an instant"),
        ({"_since": "2026-01-01T00:00:00"}, {}, 400, "_since is an instant"),
        ({"_outputFormat": "text/csv"}, {}, 400, "_outputFormat"),
        ({"_typeFilter": "Observation?code=x"}, {}, 400, "'_typeFilter' is not supported"),
        ({}, {"Accept": "text/html"}, 400, "Accept"),
    ],
)
def test_a_kick_off_that_cannot_be_done_is_a_400_operation_outcome(reader, registry, params, headers, status, says):
    response = kick_off(reader, params=params, headers=headers)

    assert response.status_code == status
    assert says in response.json()["issue"][0]["diagnostics"]
    assert not BulkExport.objects.exists()


def test_lenient_handling_ignores_unsupported_types_and_parameters(
    reader, registry, django_capture_on_commit_callbacks
):
    started = kick_off(
        reader,
        params={"_type": "Patient,Medication", "_typeFilter": "x"},
        headers={"Prefer": "respond-async, handling=lenient"},
        run=django_capture_on_commit_callbacks,
    )

    assert started.status_code == 202
    assert [o["type"] for o in reader.get(status_path(started)).json()["output"]] == ["Patient"]


def test_status_is_202_with_progress_until_the_worker_has_finished(reader, registry):
    started = kick_off(reader)  # queued: the task has not run

    status = reader.get(status_path(started))

    assert status.status_code == 202
    assert status["X-Progress"] == "Queued" and status["Retry-After"] == "5"


def test_a_client_runs_one_export_at_a_time(reader, registry):
    assert kick_off(reader).status_code == 202

    second = kick_off(reader)

    assert second.status_code == 429 and second["Retry-After"]
    assert BulkExport.objects.count() == 1


def test_delete_cancels_a_completed_export_and_deletes_its_files(
    reader, registry, export_dir, django_capture_on_commit_callbacks
):
    started = kick_off(reader, run=django_capture_on_commit_callbacks)
    manifest = reader.get(status_path(started)).json()
    assert any(export_dir.rglob("*.ndjson"))

    cancelled = reader.http.delete(status_path(started), HTTP_AUTHORIZATION=f"Bearer {reader.token}")

    assert cancelled.status_code == 202
    assert reader.get(status_path(started)).status_code == 404
    assert reader.get(urlsplit(manifest["output"][0]["url"]).path).status_code == 404
    assert not any(export_dir.rglob("*.ndjson"))
    assert reader.http.delete(status_path(started), HTTP_AUTHORIZATION=f"Bearer {reader.token}").status_code == 404


def test_a_running_export_cancelled_stops_at_its_next_chunk_and_leaves_no_file(
    reader, registry, export_dir, monkeypatch
):
    started = kick_off(reader)
    export = BulkExport.objects.get()
    made = resources.patient

    def cancel_on_the_second(patient, clinic):
        if patient.mrn == "N-0002":
            cancel_export(export=export)
        return made(patient, clinic)

    monkeypatch.setattr(bulk, "CHUNK", 1)
    monkeypatch.setattr(resources, "patient", cancel_on_the_second)

    bulk.run_export(export.pk)

    assert BulkExport.objects.get().status == BulkExport.Status.CANCELLED
    assert not list(export_dir.rglob("*.ndjson"))
    assert reader.get(status_path(started)).status_code == 404


def test_files_are_deleted_after_the_retention_period_and_a_second_run_changes_nothing(
    reader, registry, export_dir, django_capture_on_commit_callbacks
):
    started = kick_off(reader, run=django_capture_on_commit_callbacks)
    export = BulkExport.objects.get()
    later = export.expires_at + datetime.timedelta(minutes=1)

    assert bulk.tidy_exports(now=export.expires_at - datetime.timedelta(minutes=1)).expired == 0
    first, second = bulk.tidy_exports(now=later), bulk.tidy_exports(now=later)

    assert (first.expired, second.expired) == (1, 0)
    assert not any(export_dir.rglob("*.ndjson"))
    assert BulkExport.objects.get().status == BulkExport.Status.EXPIRED
    assert reader.get(status_path(started)).status_code == 404


def test_tidying_fails_an_export_whose_worker_died_and_returns_lost_ones_to_queue(reader, registry):
    kick_off(reader)
    lost = BulkExport.objects.get()
    BulkExport.objects.filter(pk=lost.pk).update(created_at=timezone.now() - datetime.timedelta(hours=1))
    stalled = BulkExport.objects.create(
        client=lost.client,
        clinic=lost.clinic,
        request_url="x",
        resource_types=["Patient"],
        status=BulkExport.Status.RUNNING,
        transaction_time=timezone.now() - datetime.timedelta(hours=2),
    )

    tidied = bulk.tidy_exports()

    assert tidied.lost == [lost.pk] and tidied.stalled == 1
    assert BulkExport.objects.get(pk=stalled.pk).status == BulkExport.Status.FAILED
    bulk.run_export(lost.pk)  # as the queued-again task does
    assert BulkExport.objects.get(pk=lost.pk).status == BulkExport.Status.COMPLETED


def test_another_client_of_any_clinic_gets_404_for_the_status_and_the_files(
    client, clinic, other_clinic, reader, registry, django_capture_on_commit_callbacks
):
    started = kick_off(reader, run=django_capture_on_commit_callbacks)
    file_url = urlsplit(reader.get(status_path(started)).json()["output"][0]["url"]).path
    colleague = Api(client, issue(clinic, name="Other system")[1])
    outsider = Api(client, issue(other_clinic, name="South EHR")[1])

    for api in (colleague, outsider):
        assert api.get(status_path(started)).status_code == 404
        assert api.get(file_url).status_code == 404
        assert api.http.delete(status_path(started), HTTP_AUTHORIZATION=f"Bearer {api.token}").status_code == 404
    assert reader.get(file_url).status_code == 200
    assert BulkExport.objects.get().status == BulkExport.Status.COMPLETED


def test_every_export_call_is_logged(reader, registry, django_capture_on_commit_callbacks):
    started = kick_off(reader, params={"_type": "Patient"}, run=django_capture_on_commit_callbacks)
    reader.get(status_path(started))

    kick, status = ApiCallLog.objects.order_by("pk")
    export = BulkExport.objects.get()
    assert (kick.path, kick.parameters, kick.status_code, kick.resource_id) == (
        "/fhir/Patient/$export",
        "_type",
        202,
        str(export.key),
    )
    assert (status.resource_type, status.resource_id, status.status_code) == ("bulk-export", str(export.key), 200)


def test_a_static_write_token_exports_too_and_no_token_is_401(client, registry, clinic):
    writer = Api(client, issue(clinic, "write", name="Writer")[1])

    assert kick_off(writer).status_code == 202
    assert kick_off(Api(client, "")).status_code == 401


def test_export_memory_stays_the_same_for_ten_times_the_patients(reader, clinic, monkeypatch):
    """Constant memory: with chunks of 50, exporting 2,000 patients peaks no higher than 200
    (a list of every resource would need about ten times as much)."""
    monkeypatch.setattr(bulk, "CHUNK", 50)

    def peak_for(patients: int) -> int:
        Patient.objects.filter(clinic=clinic).delete()
        Patient.objects.bulk_create(
            Patient(
                clinic=clinic, mrn=f"M-{n}", first_name="Ann", last_name="Lee", birth_date=datetime.date(1980, 1, 1)
            )
            for n in range(patients)
        )
        export = BulkExport.objects.create(
            client=ApiClient.objects.get(), clinic=clinic, request_url="x", resource_types=["Patient"]
        )
        tracemalloc.start()
        bulk.run_export(export.pk)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert BulkExport.objects.get(pk=export.pk).files.get().count == patients
        return peak

    # The lower of two runs each: a one-off allocation during one run (a cache filled, a dict
    # resized) is not the rows, while holding every row would show in both.
    small, large = min(peak_for(200), peak_for(200)), min(peak_for(2000), peak_for(2000))

    assert large < small * 1.5, (small, large)


def _export_queries(reader, clinic) -> int:
    export = BulkExport.objects.create(
        client=ApiClient.objects.get(), clinic=clinic, request_url="x", resource_types=list(bulk.EXPORT_TYPES)
    )
    with CaptureQueriesContext(connection) as queries:
        bulk.run_export(export.pk)
    assert BulkExport.objects.get(pk=export.pk).status == BulkExport.Status.COMPLETED
    return len(queries)


def test_an_export_costs_the_same_queries_for_2_or_12_scored_patients(reader, clinic, care_manager):
    for n in range(2):
        record_score(enroll(clinic, care_manager, f"A-{n}").episodes.get(), "PHQ9", 10, days_ago(5), care_manager)
    few = _export_queries(reader, clinic)
    for n in range(10):
        record_score(enroll(clinic, care_manager, f"B-{n}").episodes.get(), "GAD7", 10, days_ago(5), care_manager)

    many = _export_queries(reader, clinic)

    # no query per row: a deferred field read by the resources would add one for each score
    assert few == many
