import pytest

from accounts.models import Role
from tests.factories import EpisodeFactory, PatientFactory, UserFactory


@pytest.fixture
def patient(clinic, care_manager):
    return PatientFactory(clinic=clinic, care_manager=care_manager, first_name="Aurelio", last_name="Zanetti")


@pytest.fixture
def episode(patient):
    return EpisodeFactory(patient=patient)


@pytest.fixture
def other_patient(other_clinic):
    return PatientFactory(clinic=other_clinic, mrn="SOUTH-1", first_name="Bertha", last_name="Quimby")


@pytest.fixture
def clinic_admin(clinic):
    return UserFactory(
        username="north-admin", role=Role.CLINIC_ADMIN, fte=None, clinics=[clinic], email="admin@north.example"
    )


@pytest.fixture
def other_admin(other_clinic):
    return UserFactory(
        username="south-admin", role=Role.CLINIC_ADMIN, fte=None, clinics=[other_clinic], email="admin@south.example"
    )


@pytest.fixture
def outsider(other_clinic):
    """A care manager of the other clinic."""
    return UserFactory(username="south-cm", clinics=[other_clinic])
