import pytest

from accounts.models import Role
from tests.factories import UserFactory


@pytest.fixture
def data_manager(clinic):
    """The clinic admin of North, who imports and exports its data."""
    return UserFactory(username="dana", role=Role.CLINIC_ADMIN, fte=None, clinics=[clinic])


@pytest.fixture
def consultant(clinic):
    return UserFactory(username="drchen", role=Role.PSYCHIATRIC_CONSULTANT, fte=None, clinics=[clinic])
