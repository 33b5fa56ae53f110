"""Import limits and background imports: a huge upload answers a small page; a large one is
imported by a real Celery worker (Redis broker), all or nothing, on a page that follows it."""

import base64
import datetime
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from interchange import importer, jobs
from interchange.importer import import_registry
from interchange.importing.columns import MEASUREMENTS, count_rows
from interchange.models import ImportJob, ImportRun
from interchange.tests.builders import FIELDS, contact, files, iso, measurement, patient, uploads
from patients.models import Patient
from registry.models import Contact, Measurement
from tests.celery_worker import NOWHERE, use_broker, wait_for
from tests.factories import UserFactory

IMPORT = reverse("interchange:import")
BAD_SCORE = "2 2 5 2 2 2 2 2 0"  # item 3 out of range


def bad_measurements(count: int) -> list[dict]:
    return [measurement(items=BAD_SCORE, date=iso(-80)) for _ in range(count)]


def job_page(job: ImportJob) -> str:
    return reverse("interchange:import_job", args=[job.pk])


@pytest.fixture
def import_dir(settings, tmp_path):
    settings.CAREREG_IMPORT_DIR = tmp_path / "imports"
    return settings.CAREREG_IMPORT_DIR


@pytest.fixture
def background(settings, import_dir):
    """Uploads of more than three rows go to the worker (the real threshold is 500)."""
    settings.CAREREG_IMPORT_BACKGROUND_ROWS = 3
    return import_dir


# --- Limits of an upload in the request ----------------------------------------------------


@pytest.mark.django_db
def test_an_upload_over_the_row_limit_answers_a_small_page_and_imports_nothing(client, data_manager, care_manager):
    body = files(patients=[patient()])
    row = ",".join(measurement(items=BAD_SCORE).values()) + "\n"
    body[MEASUREMENTS] += row.encode() * 200_000
    client.force_login(data_manager)

    response = client.post(IMPORT, {FIELDS[name]: SimpleUploadedFile(name, data) for name, data in body.items()})

    assert response.status_code == 400
    assert len(response.content) < 40_000  # an 18 MB page of errors before
    page = response.content.decode()
    assert "The files hold 200,001 rows; an upload takes at most 50,000." in page
    assert not Patient.objects.exists()
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_the_page_lists_the_first_errors_and_counts_the_rest(client, data_manager, care_manager):
    client.force_login(data_manager)

    response = client.post(IMPORT, uploads(patients=[patient()], measurements=bad_measurements(150)))

    assert response.status_code == 400
    page = response.content.decode()
    assert page.count("<li><code>measurements.csv:") == 100
    assert "and 50 more errors." in page
    assert "measurements.csv:101: items: PHQ-9 item 3 must be 0-3, not 5" in page
    assert "measurements.csv:102:" not in page
    assert ImportRun.objects.get().error_count == 150
    assert not Patient.objects.exists()


def test_rows_are_counted_as_the_importer_reads_them():
    text = 'mrn,note\nA-1,"two\nlines"\n\n , \nA-2,x\n'

    assert count_rows(text.encode()) == 2
    assert count_rows(b"\xff\xfe\nnot utf-8\n") == 2  # counted by lines; the import says what is wrong


@pytest.mark.django_db
def test_the_importer_reports_its_progress_checking_then_writing(monkeypatch, data_manager, care_manager):
    monkeypatch.setattr(importer, "PROGRESS_SECONDS", 0)
    reports = []
    data = files(patients=[patient()], contacts=[contact(), contact(date=iso(-80))], measurements=[measurement()])

    result = import_registry(files=data, by=data_manager, progress=lambda *at: reports.append(at))

    assert result.succeeded
    assert reports[:4] == [("checking", 1, 0), ("checking", 2, 0), ("checking", 3, 0), ("checking", 4, 0)]
    assert reports[-1] == ("writing", 4, 4)  # the episode, two contacts and the score


# --- In the background ---------------------------------------------------------------------


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_a_large_upload_is_imported_by_the_worker_and_its_page_follows_it(
    client, data_manager, care_manager, background, worker
):
    client.force_login(data_manager)
    rows = {"patients": [patient()], "contacts": [contact(), contact(date=iso(-80))], "measurements": [measurement()]}

    response = client.post(IMPORT, uploads(**rows))

    job = ImportJob.objects.get()
    assert (response.status_code, response["Location"]) == (302, job_page(job))
    assert wait_for(lambda: ImportJob.objects.get().finished, seconds=60)
    job.refresh_from_db()
    assert (job.status, job.by, job.rows_total, job.error_count) == (ImportJob.Status.SUCCEEDED, data_manager, 4, 0)
    page = client.get(job_page(job))
    assert 'data-import="succeeded"' in page.content.decode()
    assert "contacts.csv: 2 rows: 2 created, 0 already present" in page.content.decode()
    assert "Refresh" not in page
    assert Contact.objects.count() == 2 and Measurement.objects.count() == 1
    assert Patient.objects.get().history.get().history_user == data_manager
    assert job.run == ImportRun.objects.get(how=ImportRun.How.UPLOAD, succeeded=True)
    assert not jobs.folder_of(job.pk).exists()  # the files are deleted once imported


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_a_failed_background_import_changes_nothing_and_lists_each_bad_row(
    client, data_manager, care_manager, background, worker
):
    client.force_login(data_manager)
    rows = {"patients": [patient()], "contacts": [contact()], "measurements": [measurement(), *bad_measurements(120)]}

    client.post(IMPORT, uploads(**rows))

    assert wait_for(lambda: ImportJob.objects.get().finished, seconds=60)
    job = ImportJob.objects.get()
    assert (job.status, job.error_count, len(job.errors)) == (ImportJob.Status.FAILED, 120, 100)
    assert job.errors[0] == "measurements.csv:3: items: PHQ-9 item 3 must be 0-3, not 5"
    assert job.errors == [f"measurements.csv:{line}: items: PHQ-9 item 3 must be 0-3, not 5" for line in range(3, 103)]
    page = client.get(job_page(job)).content.decode()
    assert 'data-import="failed"' in page
    assert page.count("<li><code>measurements.csv:") == 100
    assert "and 20 more errors." in page
    assert not Patient.objects.exists() and not Contact.objects.exists() and not Measurement.objects.exists()
    assert ImportRun.objects.get().succeeded is False
    assert not jobs.folder_of(job.pk).exists()


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_the_brokers_message_holds_the_jobs_id_and_no_patient_data(
    client, data_manager, care_manager, background, broker
):
    client.force_login(data_manager)
    rows = {"patients": [patient(mrn="MRN-SECRET-7", last_name="Quimby")], "contacts": [contact(mrn="MRN-SECRET-7")]}

    client.post(IMPORT, uploads(**rows, measurements=[measurement(mrn="MRN-SECRET-7")] * 2))

    job = ImportJob.objects.get()
    with broker.connection_for_write() as connection:
        (message,) = connection.default_channel.client.lrange("celery", 0, -1)  # no worker: still waiting
    envelope = json.loads(message)
    args, kwargs, _ = json.loads(base64.b64decode(envelope["body"]))
    assert (envelope["headers"]["task"], args, kwargs) == ("interchange.tasks.run_import_job", [job.pk], {})
    assert b"MRN-SECRET-7" not in message and b"Quimby" not in message
    assert b"MRN-SECRET-7" in (jobs.folder_of(job.pk) / "patients.csv").read_bytes()  # waiting on the app's disk
    assert jobs.folder_of(job.pk).stat().st_mode & 0o077 == 0  # the app's user's only


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_an_upload_the_broker_cannot_take_fails_at_once_and_its_files_are_deleted(
    client, data_manager, care_manager, background, broker
):
    use_broker(NOWHERE)  # the broker fixture puts the real one back afterwards
    client.force_login(data_manager)

    rows = {"patients": [patient()], "contacts": [contact(), contact()], "measurements": [measurement()]}

    response = client.post(IMPORT, uploads(**rows))

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert job.status == ImportJob.Status.FAILED
    assert "could not be reached" in client.get(job_page(job)).content.decode()
    assert not jobs.folder_of(job.pk).exists()
    assert not Patient.objects.exists()


# --- The job's page and its upkeep ----------------------------------------------------------


@pytest.mark.django_db
def test_a_running_jobs_page_shows_rows_checked_and_written_and_refreshes_itself(client, data_manager, import_dir):
    job = jobs.store_upload(files=files(patients=[patient()]), by=data_manager, rows=2_000)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    jobs.save_progress(jobs.folder_of(job.pk), "writing", 2_000, 1_250)
    client.force_login(data_manager)

    response = client.get(job_page(job))

    page = response.content.decode()
    assert response["Refresh"] == "3"
    assert "Rows checked: 2,000 of 2,000" in page
    assert "Rows written or already present: 1,250 of 2,000" in page


@pytest.mark.django_db
def test_a_job_is_its_uploaders_alone(client, data_manager, clinic, import_dir):
    job = jobs.store_upload(files=files(patients=[patient()]), by=data_manager, rows=1)
    colleague = UserFactory(username="ada", role="clinic_admin", fte=None, clinics=[clinic])
    client.force_login(colleague)

    assert client.get(job_page(job)).status_code == 404  # its errors name MRNs


@pytest.mark.django_db
def test_a_job_run_again_by_a_redelivered_message_does_nothing_more(data_manager, care_manager, import_dir):
    job = jobs.store_upload(files=files(patients=[patient()], contacts=[contact()]), by=data_manager, rows=2)

    jobs.run_job(job.pk)
    jobs.run_job(job.pk)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED
    assert (Patient.objects.count(), Contact.objects.count(), ImportRun.objects.count()) == (1, 1, 1)


@pytest.mark.django_db
def test_a_job_lost_on_the_way_fails_after_three_hours_and_its_files_go(data_manager, import_dir):
    lost = jobs.store_upload(files=files(patients=[patient()]), by=data_manager, rows=1)
    waiting = jobs.store_upload(files=files(patients=[patient()]), by=data_manager, rows=1)
    ImportJob.objects.filter(pk=lost.pk).update(created_at=timezone.now() - datetime.timedelta(hours=3, minutes=1))

    assert jobs.purge_abandoned() == 1

    lost.refresh_from_db()
    waiting.refresh_from_db()
    assert (lost.status, waiting.status) == (ImportJob.Status.FAILED, ImportJob.Status.QUEUED)
    assert not jobs.folder_of(lost.pk).exists() and jobs.folder_of(waiting.pk).exists()
