import pytest

# The real broker and worker fixtures, for the tests of any app that are about tasks.
pytest_plugins = ["tests.celery_worker"]


def on_postgresql() -> bool:
    from django.conf import settings

    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgresql` need PostgreSQL itself (pg_terminate_backend, pg_dump, TRUNCATE,
    row locks between threads): on SQLite they are deselected, never skipped. CI runs both."""
    if on_postgresql():
        return
    needs_postgresql = [item for item in items if item.get_closest_marker("postgresql")]
    if needs_postgresql:
        config.hook.pytest_deselected(items=needs_postgresql)
        items[:] = [item for item in items if not item.get_closest_marker("postgresql")]


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
    and worker (tests/celery_worker.py): no stray tasks pile up in the CI run's broker."""
    from carereg.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = eager


@pytest.fixture(autouse=True)
def _force_login_gives_the_second_factor(monkeypatch):
    """`client.force_login(user)` stands for a whole login, so it also gives the second
    factor: the user gets a real confirmed authenticator device (TOTP) and the session is
    marked verified with it, as django_otp.login does after a good code. The real steps
    (password, code page, enrollment) are tested in accounts/tests/ and the browser tests."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    plain_force_login = Client.force_login

    def force_login(self, user, backend=None):
        plain_force_login(self, user, backend)
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
        session = self.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()

    monkeypatch.setattr(Client, "force_login", force_login)


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
