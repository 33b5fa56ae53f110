"""A user's own account page: who they are, changing their password (which ends their other
sessions), and new backup codes for a code from their app."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.mfa import check_code, new_backup_codes, remaining_backup_codes
from accounts.tests.helpers import app_code
from accounts.tests.test_sessions import ENDED, signed_out_with
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

ACCOUNT, PASSWORD_PAGE = "/account/", "/account/password/"
RENEW = "/account/two-factor/backup-codes/new/"
NEW_PASSWORD = "a-long-new-pass-phrase-2026"


def test_the_urls_are_the_accounts_own():
    assert (reverse("accounts:account"), reverse("accounts:password_change")) == (ACCOUNT, PASSWORD_PAGE)
    assert reverse("accounts:renew_backup_codes") == RENEW


def test_the_page_shows_who_the_user_is_and_how_many_backup_codes_are_left(cm_client, care_manager, clinic):
    code, *_ = new_backup_codes(care_manager)
    check_code(care_manager, code)  # one used up

    page = cm_client.get(ACCOUNT)

    content = page.content.decode()
    assert page.status_code == 200
    assert care_manager.username in content and str(clinic) in content
    assert 'data-backup-codes-left="9"' in content and "of 10" in content
    assert f'href="{ACCOUNT}"' in cm_client.get("/caseload/").content.decode()  # the navbar's name leads here


def test_the_page_needs_a_login():
    response = Client().get(ACCOUNT)

    assert response.status_code == 302 and response.url.startswith("/login/")


def test_changing_the_password_keeps_this_session_and_ends_the_others(cm_client, care_manager):
    other = Client()
    other.force_login(care_manager)

    response = cm_client.post(
        PASSWORD_PAGE,
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == ACCOUNT
    assert "Your password is changed." in response.content.decode()
    care_manager.refresh_from_db()
    assert care_manager.check_password(NEW_PASSWORD)
    assert cm_client.get("/caseload/").status_code == 200
    assert signed_out_with(other, ENDED)


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        ("not-the-password", NEW_PASSWORD, "Your old password was entered incorrectly"),
        (PASSWORD, "password123456", "This password is too common."),
        (PASSWORD, "short-1", "This password is too short. It must contain at least 12 characters."),
    ],
)
def test_a_refused_password_change_says_why_and_changes_nothing(cm_client, care_manager, old, new, error):
    response = cm_client.post(PASSWORD_PAGE, {"old_password": old, "new_password1": new, "new_password2": new})

    assert response.status_code == 200
    assert error in response.content.decode()
    care_manager.refresh_from_db()
    assert care_manager.check_password(PASSWORD)


def test_new_backup_codes_are_shown_once_and_the_old_ones_stop_working(cm_client, care_manager):
    old_code, *_ = new_backup_codes(care_manager)

    response = cm_client.post(RENEW, {"code": app_code(care_manager)}, follow=True)

    content = response.content.decode()
    assert "Your backup codes" in content
    assert remaining_backup_codes(care_manager) == 10
    assert check_code(care_manager, response.context["codes"][0]) is not None
    assert check_code(care_manager, old_code) is None  # last: a failed code slows the next try down
    assert "Your backup codes" not in cm_client.get("/account/two-factor/backup-codes/", follow=True).content.decode()


@pytest.mark.parametrize("code", ["000000", "not-six"])
def test_new_backup_codes_need_the_apps_current_code(cm_client, care_manager, code):
    old_code, *_ = new_backup_codes(care_manager)

    response = cm_client.post(RENEW, {"code": code})

    assert response.status_code == 400
    assert "six digits" in response.content.decode() or "does not match" in response.content.decode()
    assert check_code(care_manager, old_code) is not None  # the old codes still work


def test_a_backup_code_cannot_stand_in_for_the_app(cm_client, care_manager):
    old_code, second, *_ = new_backup_codes(care_manager)

    response = cm_client.post(RENEW, {"code": old_code})

    assert response.status_code == 400
    assert check_code(care_manager, second) is not None
