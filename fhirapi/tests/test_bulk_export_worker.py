"""$export end to end through a real Redis broker and a Celery worker (a thread in this process,
as in tests/test_celery_jobs.py): the kick-off queues the task on commit, the worker writes the
files, the status URL answers the manifest, the files download, and DELETE removes them."""

import json
from urllib.parse import urlsplit

import pytest

from fhirapi.models import BulkExport
from fhirapi.tests.conftest import days_ago, enroll
from fhirapi.tests.test_bulk_export import ASYNC
from tests.celery_worker import wait_for
from tests.factories import record_score

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.CAREREG_BULK_EXPORT_DIR = str(tmp_path / "bulk")


@pytest.fixture
def scored_patients(clinic, care_manager):
    """Set up before the worker starts (on SQLite the worker's connection may hold the lock)."""
    patients = [enroll(clinic, care_manager, f"N-{n:04d}") for n in range(3)]
    for n, patient in enumerate(patients):
        record_score(patient.episodes.get(), "PHQ9", 10 + n, days_ago(10 + n), care_manager)
    return patients


def test_export_runs_through_the_worker_and_its_files_download(reader, scored_patients, worker):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {reader.token}"}

    started = reader.http.get("/fhir/Patient/$export", headers=ASYNC, **auth)
    status_url = urlsplit(started["Content-Location"]).path

    assert started.status_code == 202
    assert wait_for(lambda: BulkExport.objects.get().status == BulkExport.Status.COMPLETED, seconds=60)
    manifest = reader.http.get(status_url, **auth).json()
    counts = {o["type"]: o["count"] for o in manifest["output"]}
    assert counts == {"Patient": 3, "Observation": 3, "QuestionnaireResponse": 3}
    patients_file = next(o["url"] for o in manifest["output"] if o["type"] == "Patient")
    downloaded = reader.http.get(urlsplit(patients_file).path, **auth)
    lines = b"".join(downloaded.streaming_content).decode().splitlines()
    assert sorted(json.loads(line)["id"] for line in lines) == sorted(str(p.pk) for p in scored_patients)
    assert reader.http.delete(status_url, **auth).status_code == 202
    assert reader.http.get(urlsplit(patients_file).path, **auth).status_code == 404
