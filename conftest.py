import pytest


@pytest.fixture(autouse=True)
def _fast_passwords_and_static(settings):
    # Hashing at production strength would make every login in a test take half a second.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _tasks_run_in_process():
    """Tasks queued by saves run at once, in-process, unless a test switches to a real broker
    and worker (tests/test_celery_jobs.py): no stray tasks pile up in the CI run's broker."""
    from carereg.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = eager


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
