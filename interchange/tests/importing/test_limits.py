"""The import limits (docs/data-formats.md#import-limits) hold for the upload page and for
manage.py import_registry alike, refused before any row is checked, with what to do instead."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from interchange.importing import limits
from interchange.models import ImportRun
from interchange.tests.builders import contact, measurement, patient, uploads, write_folder
from patients.models import Patient

pytestmark = pytest.mark.django_db

THREE_ROWS = {"patients": [patient()], "contacts": [contact()], "measurements": [measurement()]}
SPLIT = "Split them (each import adds only what is new, so the parts can follow one another"


def import_command(folder) -> str:
    out = io.StringIO()
    call_command("import_registry", str(folder), "--by", "dana", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_command_refuses_more_rows_than_an_upload_may_hold(tmp_path, settings, data_manager, care_manager):
    settings.CAREREG_IMPORT_MAX_ROWS = 2
    write_folder(tmp_path, **THREE_ROWS)

    with pytest.raises(CommandError) as error:
        import_command(tmp_path)

    assert str(error.value).startswith("Nothing was imported: The files hold 3 rows; an import takes at most 2. ")
    assert SPLIT in str(error.value)
    assert not Patient.objects.exists()
    assert not ImportRun.objects.exists()  # refused before the import began, as on the page


def test_the_command_imports_files_at_the_row_limit(tmp_path, settings, data_manager, care_manager):
    settings.CAREREG_IMPORT_MAX_ROWS = 3
    write_folder(tmp_path, **THREE_ROWS)

    output = import_command(tmp_path)

    assert output.startswith("patients.csv: 1 rows: 1 episodes created")
    assert Patient.objects.count() == 1


def test_the_upload_page_refuses_the_same_row_count(client, settings, data_manager, care_manager):
    settings.CAREREG_IMPORT_MAX_ROWS = 2
    client.force_login(data_manager)

    response = client.post(reverse("interchange:import"), uploads(**THREE_ROWS))

    assert response.status_code == 400
    assert "The files hold 3 rows; an upload takes at most 2." in response.content.decode()
    assert not Patient.objects.exists()


def test_a_file_over_the_size_limit_is_refused_by_the_command_and_the_page(
    tmp_path, monkeypatch, client, data_manager, care_manager
):
    monkeypatch.setattr(limits, "MAX_FILE_MB", 0.0001)  # about 100 bytes: patients.csv is larger
    write_folder(tmp_path, **THREE_ROWS)
    client.force_login(data_manager)

    with pytest.raises(CommandError) as error:
        import_command(tmp_path)
    response = client.post(reverse("interchange:import"), uploads(**THREE_ROWS))

    message = "This file is larger than 0.0001 MB: split it"
    assert str(error.value).startswith(f"Nothing was imported: patients.csv: {message}")
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Patient.objects.exists()
