"""Passwords the validators refuse in the admin's user form, and demo logins without a phone."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.mfa import demo_key
from accounts.models import User
from accounts.tests.helpers import enroll_device, password_step
from registry.demo import DEMO_PASSWORD, STAFF
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("password", "message"),
    [("qwerty123456", "This password is too common."), ("Sh0rt-pw", "This password is too short.")],
)
def test_the_admins_new_user_form_refuses_common_and_short_passwords(client, clinic, password, message):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    response = client.post(
        "/admin/accounts/user/add/",
        {"username": "newcm", "password1": password, "password2": password, "usable_password": "true"},
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.filter(username="newcm").exists()


def seed(settings) -> str:
    out = StringIO()
    call_command("seed_demo", patients=0, stdout=out)
    return out.getvalue()


def demo_code(username: str) -> str:
    out = StringIO()
    call_command("demo_code", username, stdout=out)
    return out.getvalue().strip()


def test_seed_demo_says_how_to_get_a_code(settings):
    out = seed(settings)

    assert "manage.py demo_code maria" in out
    assert User.objects.get(username="maria").totpdevice_set.get().key == demo_key("maria")


def test_a_demo_user_logs_in_with_the_password_and_the_printed_code(client, settings):
    settings.DEBUG = True
    seed(settings)
    code = demo_code("maria")
    assert len(code) == 6 and code.isdigit()

    password_step(client, "maria", DEMO_PASSWORD)
    response = client.post("/account/two-factor/", {"code": code})

    assert response.status_code == 302 and response.url == "/"
    assert client.get("/caseload/").status_code == 200


def test_every_demo_account_has_its_demo_authenticator(settings):
    settings.DEBUG = True
    seed(settings)

    for username in ["admin", *(row[0] for row in STAFF)]:
        assert len(demo_code(username)) == 6


def test_demo_code_refuses_with_debug_off(settings):
    settings.DEBUG = False
    seed(settings)

    with pytest.raises(CommandError, match="DEBUG"):
        demo_code("maria")


def test_demo_code_refuses_an_account_that_is_not_a_demo_account(settings, clinic):
    settings.DEBUG = True
    seed(settings)
    UserFactory(username="realperson", clinics=[clinic])

    with pytest.raises(CommandError, match="not a demo account"):
        demo_code("realperson")


def test_demo_code_refuses_a_demo_username_whose_app_was_enrolled_for_real(settings):
    settings.DEBUG = True
    seed(settings)
    device = User.objects.get(username="maria").totpdevice_set.get()
    device.key = "00" * 20
    device.save()

    with pytest.raises(CommandError, match="not a demo account"):
        demo_code("maria")


# --- The code step shows a demo account's code, in a development set-up only -------------


def code_step(client, username: str, password: str = DEMO_PASSWORD) -> str:
    password_step(client, username, password)
    return client.get("/account/two-factor/").content.decode()


def shown_code(page: str) -> str | None:
    found = re.search(r"data-demo-code>(\d{6})<", page)
    return found.group(1) if found else None


def test_with_debug_on_the_code_step_shows_a_demo_accounts_code_and_it_logs_in(client, settings):
    settings.DEBUG = True
    seed(settings)

    code = shown_code(code_step(client, "maria"))
    response = client.post("/account/two-factor/", {"code": code})

    assert code == demo_code("maria")
    assert response.status_code == 302 and response.url == "/"


def test_with_debug_off_the_code_step_shows_no_code(client, settings):
    seed(settings)
    settings.DEBUG = False

    page = code_step(client, "maria")

    assert "Enter your code" in page
    assert shown_code(page) is None


def test_the_code_step_never_shows_the_code_of_an_account_that_is_not_a_demo_account(client, settings, clinic):
    settings.DEBUG = True
    seed(settings)
    real = UserFactory(username="realperson", clinics=[clinic])
    enroll_device(real)
    maria_device = User.objects.get(username="maria").totpdevice_set.get()
    maria_device.key = "00" * 20  # a demo username whose app was enrolled for real
    maria_device.save()

    assert shown_code(code_step(client, "realperson", PASSWORD)) is None
    client.logout()
    assert shown_code(code_step(client, "maria")) is None
