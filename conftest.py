import pytest


@pytest.fixture(autouse=True)
def _fast_passwords_and_static(settings):
    # Hashing at production strength would make every login in a test take half a second.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def clinic(db):
    from tests.factories import ClinicFactory

    return ClinicFactory(code="north", name="North Clinic")


@pytest.fixture
def other_clinic(db):
    from tests.factories import ClinicFactory

    return ClinicFactory(code="south", name="South Clinic")


@pytest.fixture
def care_manager(clinic):
    from tests.factories import UserFactory

    return UserFactory(username="cm", clinics=[clinic])


@pytest.fixture
def cm_client(client, care_manager):
    client.force_login(care_manager)
    return client
