"""The writing stage: every write goes through the apps' services as the importing person, so
history names them; a refusal is an error on the row's line, and nothing is kept."""

import pytest
from django.core.exceptions import ValidationError

from interchange.importer import import_registry
from interchange.importing import writing
from interchange.tests.builders import contact, day, files, iso, measurement, patient
from patients import services as patient_services
from patients.models import Episode, Patient
from registry.models import Contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def status_calls(monkeypatch):
    """The calls the writing stage makes to the episode-status service, passed on to it."""
    calls, service = [], patient_services.record_imported_status

    def spy(**arguments):
        calls.append(arguments)
        return service(**arguments)

    monkeypatch.setattr(writing.patient_services, "record_imported_status", spy)
    return calls


def test_an_imported_discharge_goes_through_the_episode_status_service_as_the_importer(
    data_manager, care_manager, status_calls
):
    discharged = patient(status="discharged", discharged_on=iso(-20), discharge_reason="goals_met")

    result = import_registry(files=files(patients=[discharged], contacts=[contact(date=iso(-30))]), by=data_manager)

    assert result.succeeded
    episode = Episode.objects.get()
    assert [(call["status"], call["on"], call["discharge_reason"], call["by"]) for call in status_calls] == [
        ("discharged", day(-20), "goals_met", data_manager)
    ]
    assert (episode.status, episode.discharged_on, episode.status_changed_on) == ("discharged", day(-20), day(-20))
    latest = episode.history.first()  # the discharge, after the enrollment
    assert (latest.status, latest.history_user) == ("discharged", data_manager)
    assert episode.contacts.get().history.get().history_user == data_manager


def test_a_status_beyond_the_next_step_is_recorded_in_one_write_dated_by_the_last_contact(
    data_manager, care_manager, status_calls
):
    rows = {"patients": [patient(status="relapse_prevention")], "contacts": [contact(kind="initial_assessment")]}

    import_registry(files=files(**rows), by=data_manager)

    episode = Episode.objects.get()
    assert (episode.status, episode.status_changed_on) == ("relapse_prevention", day(-85))
    assert [call["status"] for call in status_calls] == ["relapse_prevention"]
    assert list(episode.history.values_list("status", "history_user__username"))[:1] == [("relapse_prevention", "dana")]


def test_a_status_the_registry_holds_already_is_not_written_again(data_manager, care_manager, status_calls):
    import_registry(files=files(patients=[patient()]), by=data_manager)
    history = Episode.objects.get().history.count()

    result = import_registry(files=files(patients=[patient()]), by=data_manager)

    assert result.present["episodes"] == 1
    assert len(status_calls) == 1  # the first import's move from enrolled to active
    assert Episode.objects.get().history.count() == history


def test_a_status_the_service_refuses_is_an_error_on_the_patients_line_and_nothing_is_kept(
    data_manager, care_manager, monkeypatch
):
    def refuse(**arguments):
        raise ValidationError({"on": "refused for the test", "status": "and this too."})

    monkeypatch.setattr(writing.patient_services, "record_imported_status", refuse)

    result = import_registry(
        files=files(patients=[patient(mrn="B-2"), patient()], contacts=[contact()], measurements=[measurement()]),
        by=data_manager,
    )

    assert result.errors == [
        "patients.csv:2: status: refused for the test",
        "patients.csv:2: status: and this too",
        "patients.csv:3: status: refused for the test",
        "patients.csv:3: status: and this too",
    ]
    assert not (Patient.objects.exists() or Episode.objects.exists() or Contact.objects.exists())
