"""The upload page and the dashboard's CSV download, through the test client."""

import csv
import dataclasses
import io
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from consults.models import CaseReview
from interchange.models import ExportRun, ImportRun
from interchange.tests.builders import contact, measurement, patient, review, uploads
from patients.models import Episode, Patient
from registry import scoring, services
from registry.models import Flag
from tests.factories import ClinicFactory, EpisodeFactory, PatientFactory, UserFactory, record_contact, record_score

pytestmark = pytest.mark.django_db

IMPORT = reverse("interchange:import")
EXPORT = reverse("interchange:export_csv")
DASHBOARD = reverse("registry:dashboard")


# --- Upload ------------------------------------------------------------------------------


def test_clinic_admin_sees_the_upload_form_with_the_file_format(client, data_manager):
    client.force_login(data_manager)

    response = client.get(IMPORT)

    assert response.status_code == 200
    page = response.content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert "mrn,clinic,date,instrument,items,total" in page
    assert "mrn,clinic,date,consultant,note" in page
    form = response.context["form"]
    assert {"patients", "contacts", "measurements", "reviews"} <= set(form.fields)
    assert not form.fields["reviews"].required


def test_the_upload_page_names_every_instrument_the_registry_scores(client, data_manager, monkeypatch):
    """From the registry's instruments: one added there is offered here without a change."""
    monkeypatch.setitem(scoring.INSTRUMENTS, "NEW2", dataclasses.replace(scoring.PHQ2, code="NEW2"))
    client.force_login(data_manager)

    page = client.get(IMPORT).content.decode()

    assert "is one of PHQ9, GAD7, PHQ2, GAD2, AUDITC, CSSRS, PCL5, EPDS, PHQA, NEW2;" in page


def test_upload_imports_the_files_and_shows_the_summary(client, data_manager, care_manager):
    client.force_login(data_manager)

    response = client.post(IMPORT, uploads(patients=[patient()], contacts=[contact()], measurements=[measurement()]))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-import="succeeded"' in page
    assert "contacts.csv: 1 rows: 1 created, 0 already present" in page
    episode = Episode.objects.get()
    assert (episode.patient.mrn, episode.completed_contacts, episode.phq9_latest) == ("A-1", 1, 16)
    assert episode.patient.history.get().history_user == data_manager
    run = ImportRun.objects.get()
    assert (run.how, run.by_username, run.succeeded, run.contacts_created) == ("upload", "dana", True, 1)


def test_upload_takes_an_optional_reviews_file(client, data_manager, care_manager, consultant):
    client.force_login(data_manager)

    response = client.post(IMPORT, uploads(patients=[patient()], reviews=[review()]))

    page = response.content.decode()
    assert 'data-import="succeeded"' in page
    assert "reviews.csv: 1 rows: 1 created, 0 already present" in page
    assert CaseReview.objects.get().recorded_by == data_manager
    assert ImportRun.objects.get().reviews_created == 1


def test_upload_reports_a_bad_reviews_file_and_imports_nothing(client, data_manager, care_manager, consultant):
    client.force_login(data_manager)

    response = client.post(IMPORT, uploads(patients=[patient()], reviews=[review(consultant="cm")]))

    assert response.context["result"].errors == ["reviews.csv:2: consultant: cm is not a psychiatric consultant"]
    assert not Patient.objects.exists()


def test_upload_shows_every_error_and_imports_nothing(client, data_manager, care_manager):
    client.force_login(data_manager)
    measurements = [measurement(items="2 2 5 2 2 2 2 2 0"), measurement(), measurement(items="", total="99")]

    response = client.post(IMPORT, uploads(patients=[patient()], measurements=measurements))

    page = response.content.decode()
    assert 'data-import="failed"' in page
    assert response.context["result"].errors == [
        "measurements.csv:2: items: PHQ-9 item 3 must be 0-3, not 5",
        "measurements.csv:4: total: PHQ-9 total must be 0-27, not 99",
    ]
    assert "measurements.csv:2: items: PHQ-9 item 3 must be 0-3, not 5" in page
    assert not Patient.objects.exists()
    assert ImportRun.objects.get().succeeded is False


def test_upload_refuses_a_row_for_another_clinic(client, data_manager, care_manager):
    south = ClinicFactory(code="south", name="South Clinic")
    client.force_login(data_manager)

    response = client.post(IMPORT, uploads(patients=[patient(), patient(mrn="S-1", clinic="south", care_manager="")]))

    assert response.context["result"].errors == [
        "patients.csv:3: clinic: you may not import into clinic 'south': you do not belong to it"
    ]
    assert not Patient.objects.filter(clinic=south).exists()
    assert not Patient.objects.exists()


def test_upload_needs_all_three_files(client, data_manager):
    client.force_login(data_manager)
    files_but_one = uploads()
    del files_but_one["contacts"]

    response = client.post(IMPORT, files_but_one)

    assert response.context["form"].errors == {"contacts": ["This field is required."]}
    assert not ImportRun.objects.exists()


@pytest.mark.parametrize("role", [Role.CARE_MANAGER, Role.PSYCHIATRIC_CONSULTANT, Role.MEDICAL_PROVIDER])
def test_only_clinic_admins_may_import(client, clinic, care_manager, role):
    user = UserFactory(username=f"u-{role}", role=role, fte=None, clinics=[clinic])
    client.force_login(user)

    page = client.get(IMPORT)
    posted = client.post(IMPORT, uploads(patients=[patient()]))

    assert (page.status_code, posted.status_code) == (403, 403)
    assert not Patient.objects.exists()
    assert not ImportRun.objects.exists()


def test_a_superuser_may_import(client, clinic, care_manager):
    root = UserFactory(username="root", role="", fte=None, is_superuser=True, is_staff=True)
    client.force_login(root)

    response = client.post(IMPORT, uploads(patients=[patient()]))

    assert response.context["result"].succeeded
    assert Patient.objects.get().history.get().history_user == root


# --- Download ----------------------------------------------------------------------------


def downloaded(client, params=None) -> tuple[object, list[dict[str, str]]]:
    response = client.get(EXPORT, params or {})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    return response, list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def caseloads(clinic, care_manager):
    """North: two of the care manager's patients and a colleague's; South: one patient."""
    colleague = UserFactory(username="cm2", clinics=[clinic])
    mine_active = EpisodeFactory(patient__clinic=clinic, patient__mrn="N-1", patient__care_manager=care_manager)
    record_contact(mine_active, timezone.localdate(), care_manager, kind="initial_assessment")
    mine_new = EpisodeFactory(patient__clinic=clinic, patient__mrn="N-2", patient__care_manager=care_manager)
    services.raise_flag(episode=mine_new, kind=Flag.Kind.NEW_PATIENT)
    EpisodeFactory(patient__clinic=clinic, patient__mrn="N-3", patient__care_manager=colleague)
    south = ClinicFactory(code="south", name="South Clinic")
    EpisodeFactory(patient__clinic=south, patient__mrn="S-1")
    return colleague


def test_download_is_an_attachment_named_for_the_day(cm_client, caseloads):
    response, rows = downloaded(cm_client)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = timezone.localdate()
    assert response["Content-Disposition"] == f'attachment; filename="carereg-caseload-{today:%Y-%m-%d}.csv"'
    assert response["Cache-Control"] == "no-store"
    assert [row["mrn"] for row in rows] == ["N-2", "N-1"]  # the dashboard's default order: flags first


def test_download_follows_the_dashboards_caseload_and_filters(cm_client, caseloads):
    def mrns(params):
        return sorted(row["mrn"] for row in downloaded(cm_client, params)[1])

    assert mrns({"team": "all"}) == ["N-1", "N-2", "N-3"]
    assert mrns({"team": str(caseloads.pk)}) == ["N-3"]
    assert mrns({"team": "all", "status": "active"}) == ["N-1"]
    assert mrns({"flag": "new_patient"}) == ["N-2"]
    assert mrns({"team": "all", "sort": "-mrn", "page": "2"}) == ["N-1", "N-2", "N-3"]


def test_download_never_includes_another_clinics_patients(client, clinic, caseloads):
    admin = UserFactory(username="both-not", role=Role.CLINIC_ADMIN, fte=None, clinics=[clinic])
    client.force_login(admin)

    _, rows = downloaded(client, {"team": "all"})

    assert "S-1" not in {row["mrn"] for row in rows}
    assert {row["clinic"] for row in rows} == {"north"}


def test_download_applies_the_search_held_in_the_session(cm_client, caseloads):
    Patient.objects.filter(mrn="N-1").update(last_name="Zanetti")
    cm_client.post(DASHBOARD, {"q": "zanetti"})

    _, rows = downloaded(cm_client, {"team": "all"})

    assert [row["mrn"] for row in rows] == ["N-1"]
    run = ExportRun.objects.get()
    assert run.filters == {"team": "all", "status": "", "flags": [], "search": True}
    assert "zanetti" not in str(run.filters).lower()
    assert (run.how, run.by_username, run.patient_count) == ("download", "cm", 1)


def test_dashboard_offers_the_download_with_its_filters_but_never_the_search(cm_client, caseloads):
    cm_client.post(DASHBOARD, {"q": "N-1"})

    response = cm_client.get(DASHBOARD, {"team": "all", "status": "active", "page": "1"})

    links = [href for href in Hrefs.of(response.content.decode()) if href.startswith(EXPORT)]
    assert links == [f"{EXPORT}?team=all&status=active"]


def test_download_only_answers_get(cm_client):
    assert cm_client.post(EXPORT).status_code == 405


class Hrefs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a" and dict(attrs).get("href"):
            self.hrefs.append(dict(attrs)["href"])

    @classmethod
    def of(cls, html: str) -> list[str]:
        parser = cls()
        parser.feed(html)
        return parser.hrefs


def add_episodes(count, clinic, cm, start=0):
    for i in range(start, start + count):
        episode = EpisodeFactory(patient=PatientFactory(clinic=clinic, mrn=f"Q-{i:04d}", care_manager=cm))
        record_contact(episode, timezone.localdate(), cm, kind="initial_assessment", minutes=20)
        record_score(episode, "PHQ9", 12, timezone.localdate(), cm, item9=i % 2)


def test_download_queries_do_not_grow_with_the_caseload(cm_client, clinic, care_manager):
    add_episodes(5, clinic, care_manager)
    cm_client.get(DASHBOARD)  # the session's first request caches the clinic's time zone

    def count():
        with CaptureQueriesContext(connection) as queries:
            _, rows = downloaded(cm_client)
        return len(queries), len(rows)

    small = count()
    add_episodes(45, clinic, care_manager, start=5)
    large = count()

    assert (small[1], large[1]) == (5, 50)
    assert small[0] == large[0]
    assert large[0] <= 12
