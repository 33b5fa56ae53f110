"""Login throttling (django-axes): five failures lock that username out from that address
for fifteen minutes, with a message that says so."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.utils import timezone

from accounts.tests.helpers import password_step
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed attempts: try again in 15 minutes or ask your clinic admin."


@pytest.fixture
def user(clinic):
    return UserFactory(username="maria", clinics=[clinic])


def fail(client, times: int, ip: str = "10.0.0.1") -> None:
    for _ in range(times):
        response = password_step(client, "maria", "not-the-password", REMOTE_ADDR=ip)
        assert response.status_code in (200, 429)


def test_settings_say_five_failures_and_fifteen_minutes(settings):
    cool_off = settings.AXES_COOLOFF_TIME
    assert settings.AXES_FAILURE_LIMIT == 5
    assert cool_off == timedelta(minutes=15)
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_four_failures_still_let_the_right_password_in(client, user):
    fail(client, 4)

    response = password_step(client, "maria", REMOTE_ADDR="10.0.0.1")

    assert response.status_code == 302


def test_five_failures_lock_out_even_the_right_password_with_a_clear_message(client, user):
    fail(client, 5)

    response = password_step(client, "maria", REMOTE_ADDR="10.0.0.1")

    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_lockout_is_for_that_username_from_that_address(client, user, clinic):
    UserFactory(username="james", clinics=[clinic])
    fail(client, 5)

    other_address = password_step(client, "maria", REMOTE_ADDR="10.0.0.2")
    client.post("/logout/")
    other_user = password_step(client, "james", REMOTE_ADDR="10.0.0.1")

    assert other_address.status_code == 302
    assert other_user.status_code == 302


def test_the_lockout_ends_after_the_cool_off(client, user):
    fail(client, 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    response = password_step(client, "maria", REMOTE_ADDR="10.0.0.1")

    assert response.status_code == 302


def test_the_failure_limit_and_cool_off_are_settings(client, user, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = timedelta(minutes=30)
    fail(client, 2)

    response = password_step(client, "maria", REMOTE_ADDR="10.0.0.1")

    assert response.status_code == 429
    assert "try again in 30 minutes" in response.content.decode()


def test_a_successful_login_clears_the_earlier_failures(client, user):
    fail(client, 4)
    assert password_step(client, "maria", REMOTE_ADDR="10.0.0.1").status_code == 302
    client.post("/logout/")

    fail(client, 4)

    assert password_step(client, "maria", REMOTE_ADDR="10.0.0.1").status_code == 302


def test_behind_the_proxy_the_address_is_the_one_the_proxy_saw(client, user, settings):
    settings.BEHIND_PROXY = True  # the proxy at 127.0.0.1, one of TRUSTED_PROXIES
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = False
    for _ in range(5):  # the client forges the first entry; our proxy appends the real one
        password_step(client, "maria", "wrong", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="1.1.1.1, 10.9.9.9")

    assert AccessAttempt.objects.get().ip_address == "10.9.9.9"
    locked = password_step(client, "maria", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="2.2.2.2, 10.9.9.9")
    assert locked.status_code == 429
