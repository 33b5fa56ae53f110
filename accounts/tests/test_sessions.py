"""Automatic logoff: 15 minutes idle, 12 hours from login whatever the activity, and every
session of an account ended when it is deactivated."""

import time

import pytest

from accounts.sessions import LOGIN_AT, SEEN_AT
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

IDLE = "You were signed out after 15 minutes without activity"
ABSOLUTE = "You were signed out 12 hours after logging in"
ENDED = "You were signed out: your session was ended"


def set_times(client, *, login_ago: float, seen_ago: float) -> None:
    session = client.session
    now = time.time()
    session[LOGIN_AT], session[SEEN_AT] = now - login_ago, now - seen_ago
    session.save()


def signed_out_with(client, message: str) -> bool:
    response = client.get("/caseload/", follow=True)
    return response.redirect_chain[-1][0].startswith("/login/") and message in response.content.decode()


def test_settings_are_fifteen_minutes_idle_and_twelve_hours(settings):
    assert settings.CAREREG_IDLE_TIMEOUT_MINUTES == 15
    assert settings.CAREREG_SESSION_MAX_HOURS == 12


def test_fourteen_minutes_idle_is_still_signed_in(cm_client):
    set_times(cm_client, login_ago=3600, seen_ago=14 * 60)

    assert cm_client.get("/caseload/").status_code == 200


def test_sixteen_minutes_idle_signs_out_with_the_reason_on_the_login_page(cm_client):
    set_times(cm_client, login_ago=3600, seen_ago=16 * 60)

    assert signed_out_with(cm_client, IDLE)
    assert cm_client.get("/caseload/").status_code == 302  # and stays signed out


def test_the_idle_limit_is_a_setting(cm_client, settings):
    settings.CAREREG_IDLE_TIMEOUT_MINUTES = 5
    set_times(cm_client, login_ago=3600, seen_ago=6 * 60)

    assert signed_out_with(cm_client, "You were signed out after 5 minutes without activity")


def test_activity_keeps_the_session_alive(cm_client):
    set_times(cm_client, login_ago=3600, seen_ago=10 * 60)
    assert cm_client.get("/caseload/").status_code == 200  # activity now

    assert time.time() - cm_client.session[SEEN_AT] < 5


def test_twelve_hours_after_login_signs_out_even_when_active(cm_client):
    set_times(cm_client, login_ago=12 * 3600 + 5, seen_ago=10)

    assert signed_out_with(cm_client, ABSOLUTE)


def test_just_under_twelve_hours_is_still_signed_in(cm_client):
    set_times(cm_client, login_ago=12 * 3600 - 60, seen_ago=10)

    assert cm_client.get("/caseload/").status_code == 200


def test_a_session_without_a_login_time_is_ended(cm_client):
    session = cm_client.session
    del session[LOGIN_AT]
    session.save()

    assert signed_out_with(cm_client, ENDED)


def test_a_page_view_within_the_minute_does_not_rewrite_the_session(cm_client):
    set_times(cm_client, login_ago=100, seen_ago=20)
    seen = cm_client.session[SEEN_AT]

    cm_client.get("/caseload/")

    assert cm_client.session[SEEN_AT] == seen


def test_deactivating_an_account_ends_all_its_sessions(client, clinic):
    from django.test import Client

    user = UserFactory(username="maria", clinics=[clinic])
    laptop, desk = Client(), Client()
    laptop.force_login(user)
    desk.force_login(user)
    assert laptop.get("/caseload/").status_code == 200

    user.is_active = False
    user.save()

    assert signed_out_with(laptop, ENDED)
    assert desk.get("/caseload/").url.startswith("/login/")
    user.is_active = True  # made active again: the old sessions stay ended
    user.save()
    assert desk.get("/caseload/").url.startswith("/login/")


def test_deactivating_in_the_admin_ends_the_sessions(client, clinic):
    from django.test import Client

    user = UserFactory(username="maria", clinics=[clinic])
    session = Client()
    session.force_login(user)
    boss = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(boss)
    form = client.get(f"/admin/accounts/user/{user.pk}/change/").context["adminform"].form
    data = {
        **{k: v for k, v in form.initial.items() if v is not None and not isinstance(v, list)},
        "clinics": [clinic.pk],
        "date_joined_0": user.date_joined.date().isoformat(),
        "date_joined_1": "08:00:00",
        "is_active": "",
    }
    data.pop("is_active")
    data.pop("last_login", None)

    response = client.post(f"/admin/accounts/user/{user.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert not user.is_active and user.sessions_valid_after is not None
    assert session.get("/caseload/").url.startswith("/login/")
