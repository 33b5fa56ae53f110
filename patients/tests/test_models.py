"""The database's own guarantees for patients and episodes, with the services bypassed."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from patients.models import Episode, Patient
from tests.factories import EpisodeFactory, PatientFactory

pytestmark = pytest.mark.django_db


def discharged(patient, enrolled_on, discharged_on) -> Episode:
    return EpisodeFactory(
        patient=patient,
        enrolled_on=enrolled_on,
        status=Episode.Status.DISCHARGED,
        discharged_on=discharged_on,
        discharge_reason="moved",
    )


@pytest.mark.parametrize("status", [Episode.Status.ENROLLED, Episode.Status.ACTIVE, Episode.Status.RELAPSE_PREVENTION])
def test_second_open_episode_for_a_patient_is_refused(clinic, status):
    first = EpisodeFactory(patient__clinic=clinic)

    with pytest.raises(IntegrityError), transaction.atomic():
        EpisodeFactory(patient=first.patient, status=status)

    assert first.patient.episodes.count() == 1


def test_reopening_a_discharged_episode_beside_an_open_one_is_refused(clinic):
    patient = PatientFactory(clinic=clinic)
    old = discharged(patient, datetime.date(2024, 1, 5), datetime.date(2024, 6, 1))
    EpisodeFactory(patient=patient, enrolled_on=datetime.date(2025, 1, 5))

    with pytest.raises(IntegrityError), transaction.atomic():
        Episode.objects.filter(pk=old.pk).update(status=Episode.Status.ACTIVE, discharged_on=None, discharge_reason="")


def test_discharged_episodes_and_one_open_episode_may_coexist(clinic):
    patient = PatientFactory(clinic=clinic)
    discharged(patient, datetime.date(2023, 1, 5), datetime.date(2023, 6, 1))
    discharged(patient, datetime.date(2024, 1, 5), datetime.date(2024, 6, 1))

    EpisodeFactory(patient=patient, enrolled_on=datetime.date(2025, 1, 5))

    assert patient.episodes.count() == 3
    assert patient.episodes.open().count() == 1


def test_open_episodes_of_different_patients_coexist(clinic):
    EpisodeFactory(patient__clinic=clinic)
    EpisodeFactory(patient__clinic=clinic)

    assert Episode.objects.open().count() == 2


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "discharged", "discharged_on": None, "discharge_reason": "moved"},
        {"status": "discharged", "discharged_on": datetime.date(2025, 3, 1), "discharge_reason": ""},
        {"status": "active", "discharged_on": datetime.date(2025, 3, 1), "discharge_reason": ""},
        {"status": "active", "discharged_on": None, "discharge_reason": "moved"},
        {"status": "discharged", "discharged_on": datetime.date(2024, 12, 31), "discharge_reason": "moved"},
        {"status": "discharged", "discharged_on": datetime.date(2025, 3, 1), "discharge_reason": "bored"},
        {"status": "paused"},
    ],
    ids=[
        "discharged-without-date",
        "discharged-without-reason",
        "open-with-date",
        "open-with-reason",
        "discharged-before-enrolled",
        "unknown-reason",
        "unknown-status",
    ],
)
def test_inconsistent_episode_is_refused(clinic, fields):
    patient = PatientFactory(clinic=clinic)

    with pytest.raises(IntegrityError), transaction.atomic():
        EpisodeFactory(patient=patient, enrolled_on=datetime.date(2025, 1, 1), **fields)


def test_duplicate_mrn_in_a_clinic_is_refused_by_the_database(clinic, other_clinic):
    PatientFactory(clinic=clinic, mrn="X1")
    PatientFactory(clinic=other_clinic, mrn="X1")

    with pytest.raises(IntegrityError), transaction.atomic():
        PatientFactory(clinic=clinic, mrn="X1")

    assert Patient.objects.filter(mrn="X1").count() == 2


@pytest.mark.parametrize(("field", "value"), [("mrn", ""), ("birth_date", datetime.date(1899, 12, 31))])
def test_blank_mrn_or_implausible_birth_date_is_refused(clinic, field, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        PatientFactory(clinic=clinic, **{field: value})


@pytest.mark.parametrize(
    ("day", "age"),
    [(datetime.date(2025, 5, 16), 44), (datetime.date(2025, 5, 17), 45), (datetime.date(2026, 1, 1), 45)],
)
def test_age_counts_whole_years_to_the_birthday(day, age):
    patient = Patient(birth_date=datetime.date(1980, 5, 17))

    assert patient.age_on(day) == age
