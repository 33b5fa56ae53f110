"""The second factor: enrollment at first login, a code after the password, backup codes,
and nothing open until the code is given; the admin included."""

import re

import pytest
from django.contrib import admin
from django.core.management import CommandError, call_command
from django_otp.admin import OTPAdminSite
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.mfa import current_code, new_backup_codes
from accounts.models import User
from accounts.tests.helpers import app_code, enroll_device, password_step
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

VERIFY, SETUP, BACKUP = "/account/two-factor/", "/account/two-factor/set-up/", "/account/two-factor/backup-codes/"


@pytest.fixture
def user(clinic):
    return UserFactory(username="maria", clinics=[clinic])


@pytest.fixture
def enrolled(user):
    enroll_device(user)
    return user


def pending_device(user) -> TOTPDevice:
    return TOTPDevice.objects.get(user=user, confirmed=False)


# --- Enrollment at the first login ----------------------------------------------------------


def test_first_login_sends_an_account_without_an_app_to_enrollment(client, user):
    response = password_step(client, "maria")
    assert response.status_code == 302

    page = client.get(response.url, follow=True)

    assert page.redirect_chain[-1][0].startswith(SETUP)
    content = page.content.decode()
    assert "Set up your authenticator app" in content
    assert re.search(r"<svg [^>]*role=\"img\"", content), "the QR code is inline SVG markup"
    assert "data:" not in content and "<script>" not in content
    secret = re.search(r'id="mfa-secret">([A-Z2-7 ]+)<', content).group(1)
    assert len(secret.replace(" ", "")) == 32  # the 20-byte key, base32, as text too


def test_enrollment_key_stays_the_same_until_confirmed(client, user):
    password_step(client, "maria")
    first = client.get(SETUP).content
    second = client.get(SETUP).content

    assert TOTPDevice.objects.filter(user=user).count() == 1
    assert re.search(rb'id="mfa-secret">([^<]+)<', first).group(1) == re.search(
        rb'id="mfa-secret">([^<]+)<', second
    ).group(1)


def test_confirming_the_app_shows_ten_backup_codes_once_then_opens_the_page(client, user):
    password_step(client, "maria", next_url="/reviews/")
    client.get(f"{SETUP}?next=/reviews/")
    device = pending_device(user)

    response = client.post(SETUP, {"code": current_code(device), "next": "/reviews/"})

    assert response.status_code == 302 and response.url == BACKUP
    device.refresh_from_db()
    assert device.confirmed
    codes_page = client.get(BACKUP)
    codes = re.findall(r"<code>([a-z2-7]{8})</code>", codes_page.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    assert sorted(codes) == sorted(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert 'href="/reviews/"' in codes_page.content.decode()
    again = client.get(BACKUP)  # shown once: a reload shows them no more
    assert again.status_code == 302 and again.url == "/"
    assert client.get("/reviews/").status_code == 200


def test_enrollment_refuses_a_wrong_code_and_leaves_the_app_unconfirmed(client, user):
    password_step(client, "maria")
    client.get(SETUP)
    device = pending_device(user)
    wrong = f"{(int(current_code(device)) + 1) % 1_000_000:06d}"

    response = client.post(SETUP, {"code": wrong})

    assert response.status_code == 400
    assert "That code does not match" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get("/caseload/").status_code == 302  # still not in


def test_an_enrolled_account_cannot_replace_its_app_from_the_setup_page(client, enrolled):
    password_step(client, "maria")

    response = client.get(SETUP)

    assert response.status_code == 302 and response.url.startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=enrolled).count() == 1


# --- A code after the password --------------------------------------------------------------


def test_password_then_the_apps_code_opens_the_page_asked_for(client, enrolled):
    first = client.get("/reviews/")
    assert first.status_code == 302 and first.url.startswith("/login/")
    response = password_step(client, "maria", next_url="/reviews/")
    step = client.get(response.url)
    assert step.status_code == 302 and step.url == f"{VERIFY}?next=%2Freviews%2F"
    assert client.get(step.url).status_code == 200

    done = client.post(VERIFY, {"code": app_code(enrolled), "next": "/reviews/"})

    assert done.status_code == 302 and done.url == "/reviews/"
    assert client.get("/reviews/").status_code == 200


def test_a_wrong_code_is_refused_and_every_page_stays_closed(client, enrolled):
    password_step(client, "maria")
    wrong = f"{(int(app_code(enrolled)) + 1) % 1_000_000:06d}"

    response = client.post(VERIFY, {"code": wrong})

    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    for url in ["/", "/reviews/", "/patients/enroll/", "/admin/"]:
        page = client.get(url)
        assert page.status_code == 302 and page.url.startswith(VERIFY), url


def test_a_code_is_refused_the_second_time(client, enrolled):
    code = app_code(enrolled)
    password_step(client, "maria")
    assert client.post(VERIFY, {"code": code}).status_code == 302
    client.post("/logout/")

    password_step(client, "maria")
    response = client.post(VERIFY, {"code": code})

    assert response.status_code == 400


def test_a_backup_code_works_once(client, enrolled):
    code, *_ = new_backup_codes(enrolled)
    password_step(client, "maria")

    used = client.post(VERIFY, {"code": code.upper()}, follow=True)

    assert used.redirect_chain[-1][0] == "/caseload/"  # / sends a care manager to the caseload
    assert "You used a backup code; 9 left" in used.content.decode()
    client.post("/logout/")
    password_step(client, "maria")
    assert client.post(VERIFY, {"code": code}).status_code == 400


def test_a_code_of_the_wrong_shape_is_explained(client, enrolled):
    password_step(client, "maria")

    response = client.post(VERIFY, {"code": "12ab"})

    assert response.status_code == 400
    assert "Enter the six digits from your app, or an eight-character backup code." in response.content.decode()


def test_verification_gives_the_session_a_new_key(client, enrolled):
    password_step(client, "maria")
    before = client.session.session_key

    client.post(VERIFY, {"code": app_code(enrolled)})

    assert client.session.session_key != before


def test_logout_works_before_the_code(client, enrolled):
    password_step(client, "maria")

    response = client.post("/logout/")

    assert response.status_code == 302 and response.url == "/login/"
    assert client.get("/caseload/").url.startswith("/login/")


def test_the_api_and_the_patients_self_report_pages_need_no_second_factor(client, enrolled):
    password_step(client, "maria")  # a session with the password only

    assert client.get("/fhir/metadata").status_code == 200
    assert client.get("/r/no-such-token/").status_code == 404  # not sent to the code step


# --- The admin --------------------------------------------------------------------------------


def test_the_admin_needs_a_verified_session(client, enrolled):
    enrolled.is_staff = enrolled.is_superuser = True
    enrolled.save()
    assert isinstance(admin.site, OTPAdminSite)
    password_step(client, "maria", next_url="/admin/")

    before = client.get("/admin/")
    assert before.status_code == 302 and before.url == f"{VERIFY}?next=%2Fadmin%2F"
    assert client.get("/admin/login/?next=/admin/").url == f"{VERIFY}?next=%2Fadmin%2F"
    client.post(VERIFY, {"code": app_code(enrolled), "next": "/admin/"})

    assert client.get("/admin/").status_code == 200


def test_the_admins_login_page_is_the_apps(client, db):
    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 302 and response.url == "/login/?next=%2Fadmin%2F"


def test_a_verified_user_who_is_not_staff_is_refused_by_the_admin_without_a_loop(client, user):
    client.force_login(user)

    response = client.get("/admin/", follow=True)

    assert response.status_code == 403


# --- Lost phone ----------------------------------------------------------------------------


def test_reset_command_removes_the_app_ends_sessions_and_records_why(client, enrolled):
    client.force_login(enrolled)
    assert client.get("/caseload/").status_code == 200
    new_backup_codes(enrolled)

    call_command("reset_mfa", "maria", reason="lost phone, ticket 42")

    assert not TOTPDevice.objects.filter(user=enrolled).exists()
    assert not StaticToken.objects.filter(device__user=enrolled).exists()
    assert client.get("/caseload/").url.startswith("/login/")  # that session ended
    latest = User.history.filter(id=enrolled.pk).latest("history_date")
    assert latest.history_change_reason == "Two-factor reset: lost phone, ticket 42"
    password_step(client, "maria")
    assert client.get("/caseload/", follow=True).redirect_chain[-1][0].startswith(SETUP)  # enrolls again


def test_reset_command_needs_a_reason_and_a_known_account(enrolled):
    with pytest.raises(CommandError, match="Say why"):
        call_command("reset_mfa", "maria", reason="  ")
    with pytest.raises(CommandError, match="No account"):
        call_command("reset_mfa", "nobody", reason="lost phone")
    assert TOTPDevice.objects.filter(user=enrolled).exists()


def test_admin_action_resets_the_second_factor_with_who_did_it(client, clinic, enrolled):
    boss = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(boss)

    response = client.post(
        "/admin/accounts/user/",
        {"action": "reset_second_factor", "_selected_action": [enrolled.pk]},
        follow=True,
    )

    assert "Reset the second factor of 1 account(s)" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=enrolled).exists()
    latest = User.history.filter(id=enrolled.pk).latest("history_date")
    assert latest.history_user == boss
    assert "reset in the admin by root" in latest.history_change_reason


def test_the_admin_shows_no_authenticator_secrets(client):
    boss = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(boss)

    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404
    assert client.get("/admin/otp_static/staticdevice/").status_code == 404


def test_a_verified_session_costs_no_device_query_per_page(client, enrolled):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    password_step(client, "maria")
    client.post(VERIFY, {"code": app_code(enrolled)})
    client.get("/caseload/")

    with CaptureQueriesContext(connection) as queries:
        assert client.get("/caseload/").status_code == 200

    assert not [q for q in queries.captured_queries if "otp_" in q["sql"]]
