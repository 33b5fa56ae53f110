"""manage.py import_registry and export_registry."""

import csv
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import Role
from consults.models import CaseReview
from interchange.exporter import COLUMNS
from interchange.models import ExportRun, ImportRun
from interchange.tests.builders import contact, iso, measurement, patient, review, write_folder
from patients.models import Patient
from tests.factories import ClinicFactory, EpisodeFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


def import_command(folder, *args) -> str:
    out = io.StringIO()
    call_command("import_registry", str(folder), *args, stdout=out)
    return out.getvalue()


def test_import_command_prints_what_it_created(tmp_path, data_manager, care_manager):
    write_folder(tmp_path, patients=[patient()], contacts=[contact()], measurements=[measurement()])

    output = import_command(tmp_path, "--by", "dana")

    assert output.splitlines()[:3] == [
        "patients.csv: 1 rows: 1 episodes created (1 new patient), 0 already present",
        "contacts.csv: 1 rows: 1 created, 0 already present",
        "measurements.csv: 1 rows: 1 created, 0 already present",
    ]
    assert output.splitlines()[3].startswith("Imported in ")
    assert ImportRun.objects.get().how == ImportRun.How.COMMAND


def test_import_command_reads_reviews_csv_when_the_folder_has_one(tmp_path, data_manager, care_manager, consultant):
    write_folder(tmp_path, patients=[patient()], reviews=[review()])

    output = import_command(tmp_path, "--by", "dana")

    assert output.splitlines()[3] == "reviews.csv: 1 rows: 1 created, 0 already present"
    assert CaseReview.objects.get().consultant == consultant
    assert ImportRun.objects.get().reviews_created == 1


def test_import_command_fails_on_a_bad_reviews_header(tmp_path, data_manager, care_manager):
    write_folder(tmp_path, patients=[patient()])
    (tmp_path / "reviews.csv").write_text("mrn,clinic,date,note\n")
    err = io.StringIO()

    with pytest.raises(CommandError, match=r"^Nothing was imported: 1 error\.$"):
        call_command("import_registry", str(tmp_path), "--by", "dana", stdout=io.StringIO(), stderr=err)

    assert err.getvalue().splitlines() == ["reviews.csv:1: header: missing column(s): consultant"]
    assert not Patient.objects.exists()


def test_import_command_fails_with_every_error(tmp_path, data_manager, care_manager):
    """A CommandError: manage.py prints it and exits with status 1."""
    write_folder(tmp_path, patients=[patient(sex="x"), patient(mrn="B-2", status="gone")])
    (tmp_path / "contacts.csv").unlink()
    err = io.StringIO()

    with pytest.raises(CommandError, match=r"^Nothing was imported: 3 errors\.$"):
        call_command("import_registry", str(tmp_path), "--by", "dana", stdout=io.StringIO(), stderr=err)

    assert err.getvalue().splitlines() == [
        "patients.csv:2: sex: 'x' is not one of female, male, other, unknown",
        "patients.csv:3: status: 'gone' is not one of enrolled, active, relapse_prevention, discharged",
        "contacts.csv: file: missing",
    ]
    assert not Patient.objects.exists()


def test_import_command_needs_an_active_account_and_a_folder(tmp_path, data_manager):
    with pytest.raises(CommandError, match="--by"):
        import_command(tmp_path)
    with pytest.raises(CommandError, match="No active account 'nobody'"):
        import_command(tmp_path, "--by", "nobody")
    with pytest.raises(CommandError, match="is not a folder"):
        import_command(tmp_path / "absent", "--by", "dana")


def export_command(*args) -> list[dict[str, str]]:
    out = io.StringIO()
    call_command("export_registry", *args, stdout=out)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


@pytest.fixture
def two_clinics(clinic):
    south = ClinicFactory(code="south", name="South Clinic")
    EpisodeFactory(patient=PatientFactory(clinic=clinic, mrn="N-1"))
    EpisodeFactory(patient=PatientFactory(clinic=south, mrn="S-1"))
    return clinic, south


def test_export_command_writes_every_clinic_or_one(two_clinics):
    everything = export_command()
    south_only = export_command("--clinic", "south")

    assert [(row["clinic"], row["mrn"]) for row in everything] == [("north", "N-1"), ("south", "S-1")]
    assert [row["mrn"] for row in south_only] == ["S-1"]
    assert list(south_only[0]) == list(COLUMNS)


def test_export_command_writes_a_file_and_records_the_export(tmp_path, two_clinics, data_manager):
    out = tmp_path / "registry.csv"

    call_command("export_registry", "--clinic", "north", "--out", str(out), "--by", "dana", stderr=io.StringIO())

    assert [row["mrn"] for row in csv.DictReader(out.open(encoding="utf-8"))] == ["N-1"]
    run = ExportRun.objects.get()
    assert (run.by_username, run.how, run.patient_count, run.filters) == ("dana", "command", 1, {"clinic": "north"})
    assert [clinic.code for clinic in run.clinics.all()] == ["north"]


def test_export_command_by_a_user_covers_only_their_clinics(two_clinics, data_manager):
    assert [row["mrn"] for row in export_command("--by", "dana")] == ["N-1"]
    with pytest.raises(CommandError, match="No clinic 'south' among dana's clinics"):
        export_command("--by", "dana", "--clinic", "south")


def test_export_command_without_a_user_records_the_system_user(two_clinics):
    export_command()

    run = ExportRun.objects.get()
    assert run.by_username.startswith("system user")
    assert run.patient_count == 2
    assert {clinic.code for clinic in run.clinics.all()} == {"north", "south"}


def test_an_unknown_clinic_is_an_error(two_clinics):
    with pytest.raises(CommandError, match="No clinic 'west'"):
        export_command("--clinic", "west")
    assert not ExportRun.objects.exists()


def test_a_users_import_cannot_reach_other_clinics_even_from_the_command(tmp_path, clinic, care_manager):
    south = ClinicFactory(code="south", name="South Clinic")
    UserFactory(username="southadmin", role=Role.CLINIC_ADMIN, fte=None, clinics=[south])
    write_folder(tmp_path, patients=[patient(care_manager="", enrolled_on=iso(-10))])

    with pytest.raises(CommandError, match="Nothing was imported: 1 error"):
        import_command(tmp_path, "--by", "southadmin")
