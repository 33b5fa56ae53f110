"""Accounts in the Django admin: a clinic admin manages the accounts wholly inside her clinics
and nothing more; no past version of an account is ever written back; the history keeps no
password hash (docs/security.md#admin-permissions)."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Clinic, Role, User
from tests.admin_forms import posted_values
from tests.factories import ClinicFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-new-pass-phrase-for-him-99"


@pytest.fixture
def north():
    return ClinicFactory(code="north", name="North Valley")


@pytest.fixture
def west():
    return ClinicFactory(code="west", name="West Side")


@pytest.fixture
def dana(north):
    """A clinic admin of North as a real one is set up: staff, with every permission there is."""
    user = UserFactory(username="dana", role=Role.CLINIC_ADMIN, fte=None, is_staff=True, clinics=[north])
    user.user_permissions.set(Permission.objects.all())
    return user


@pytest.fixture
def root():
    return UserFactory(username="root", role="", fte=None, is_staff=True, is_superuser=True)


@pytest.fixture
def maria(north):
    """A care manager of North only: Dana's to manage."""
    return UserFactory(username="maria", clinics=[north])


@pytest.fixture
def drchen(north, west):
    """A psychiatric consultant of North and West."""
    return UserFactory(username="drchen", role=Role.PSYCHIATRIC_CONSULTANT, fte=None, clinics=[north, west])


@pytest.fixture
def colleague(north):
    """Another staff account of North (may use the admin)."""
    return UserFactory(username="colleague", role=Role.CLINIC_ADMIN, fte=None, is_staff=True, clinics=[north])


@pytest.fixture
def north_root(north):
    return UserFactory(username="north-root", role="", fte=None, is_staff=True, is_superuser=True, clinics=[north])


def change_url(user) -> str:
    return reverse("admin:accounts_user_change", args=[user.pk])


def password_url(user) -> str:
    return reverse("admin:auth_user_password_change", args=[user.pk])


def revert_url(user, version) -> str:
    return reverse("admin:accounts_user_simple_history", args=[user.pk, version.history_id])


def state_of(user) -> dict:
    user = User.objects.get(pk=user.pk)
    return {
        **{f.attname: getattr(user, f.attname) for f in User._meta.concrete_fields},
        "clinics": sorted(user.clinics.values_list("pk", flat=True)),
        "devices": TOTPDevice.objects.filter(user=user).count(),
        "versions": user.history.count(),
    }


# --- 1. No revert of an account, and no revert at all but a superuser's ----------------------


@pytest.fixture
def demoted(north):
    """Once a superuser; then demoted, given a new password and deactivated."""
    user = UserFactory(username="former-root", role="", fte=None, is_staff=True, is_superuser=True, clinics=[north])
    user.is_superuser = user.is_staff = False
    user.set_password(NEW_PASSWORD)
    user.save()
    user.is_active = False
    user.save()
    return user


def test_a_clinic_admin_cannot_write_back_an_accounts_superuser_version(client, dana, demoted):
    version = demoted.history.filter(is_superuser=True).earliest("history_date")
    before = state_of(demoted)
    client.force_login(dana)
    shown = client.get(revert_url(demoted, version))

    posted = client.post(revert_url(demoted, version), posted_values(shown.context["adminform"].form))

    assert shown.status_code == 200
    assert shown.context["revert_disabled"]
    assert posted.status_code == 403
    assert state_of(demoted) == before
    assert not User.objects.get(pk=demoted.pk).is_superuser


def test_not_even_a_superuser_writes_back_a_past_version_of_an_account(client, root, demoted):
    version = demoted.history.filter(is_superuser=True).earliest("history_date")
    before = state_of(demoted)
    client.force_login(root)
    shown = client.get(revert_url(demoted, version))

    posted = client.post(revert_url(demoted, version), posted_values(shown.context["adminform"].form))

    assert shown.context["revert_disabled"]
    assert "Revert" not in shown.content.decode()
    assert posted.status_code == 403
    assert state_of(demoted) == before


def test_a_clinic_admin_cannot_revert_her_own_clinics_records(client, dana, north):
    north.name = "North Valley Family Medicine"
    north.save()
    version = north.history.earliest("history_date")
    client.force_login(dana)
    url = reverse("admin:accounts_clinic_simple_history", args=[north.pk, version.history_id])
    shown = client.get(url)

    posted = client.post(url, posted_values(shown.context["adminform"].form))

    assert shown.context["revert_disabled"]
    assert posted.status_code == 403
    assert Clinic.objects.get(pk=north.pk).name == "North Valley Family Medicine"


def test_a_superuser_may_still_revert_a_clinic(client, root, north):
    north.name = "Renamed by mistake"
    north.save()
    version = north.history.earliest("history_date")
    client.force_login(root)
    url = reverse("admin:accounts_clinic_simple_history", args=[north.pk, version.history_id])
    shown = client.get(url)

    posted = client.post(url, posted_values(shown.context["adminform"].form))

    assert not shown.context["revert_disabled"]
    assert posted.status_code == 302
    assert Clinic.objects.get(pk=north.pk).name == "North Valley"


# --- 2. Only a superuser touches an account that reaches past her clinics, or staff ----------

OUT_OF_REACH = ["drchen", "colleague", "north_root"]


@pytest.mark.parametrize("whom", OUT_OF_REACH)
def test_a_clinic_admin_cannot_set_the_password_of_an_account_out_of_her_reach(client, request, dana, whom):
    target = request.getfixturevalue(whom)
    before = state_of(target)
    client.force_login(dana)

    shown = client.get(password_url(target))
    posted = client.post(
        password_url(target), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    )

    assert (shown.status_code, posted.status_code) == (403, 403)
    assert state_of(target) == before


@pytest.mark.parametrize("whom", OUT_OF_REACH)
def test_a_clinic_admin_cannot_reset_the_second_factor_of_an_account_out_of_her_reach(
    client, request, dana, maria, whom
):
    target = request.getfixturevalue(whom)
    TOTPDevice.objects.create(user=target, name="Authenticator app", confirmed=True)
    TOTPDevice.objects.create(user=maria, name="Authenticator app", confirmed=True)
    before = state_of(target), state_of(maria)
    client.force_login(dana)

    response = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "reset_second_factor", "_selected_action": [target.pk, maria.pk]},
        follow=True,
    )

    assert (state_of(target), state_of(maria)) == before  # all or nothing
    assert "only a superuser" in response.content.decode()


@pytest.mark.parametrize("whom", OUT_OF_REACH)
def test_a_clinic_admin_cannot_deactivate_or_move_an_account_out_of_her_reach(client, request, dana, root, whom):
    target = request.getfixturevalue(whom)
    client.force_login(root)
    data = posted_values(client.get(change_url(target)).context["adminform"].form)
    before = state_of(target)
    client.force_login(dana)
    page = client.get(change_url(target))

    deactivated = client.post(change_url(target), {**data, "is_active": ""})
    moved = client.post(change_url(target), {**data, "role": Role.CARE_MANAGER, "clinics": [target.clinics.first().pk]})

    assert page.status_code == 200
    assert not page.context["has_change_permission"]  # shown, read-only
    assert (deactivated.status_code, moved.status_code) == (403, 403)
    assert state_of(target) == before


def test_a_clinic_admin_still_manages_an_account_wholly_in_her_clinic(client, dana, maria, north):
    TOTPDevice.objects.create(user=maria, name="Authenticator app", confirmed=True)
    client.force_login(dana)
    data = posted_values(client.get(change_url(maria)).context["adminform"].form)

    password = client.post(
        password_url(maria), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    )
    reset = client.post(
        reverse("admin:accounts_user_changelist"), {"action": "reset_second_factor", "_selected_action": [maria.pk]}
    )
    changed = client.post(change_url(maria), {**data, "role": Role.MEDICAL_PROVIDER, "fte": "", "is_active": ""})

    assert (password.status_code, reset.status_code, changed.status_code) == (302, 302, 302)
    maria.refresh_from_db()
    assert maria.check_password(NEW_PASSWORD)
    assert not TOTPDevice.objects.filter(user=maria).exists()
    assert (maria.role, maria.is_active) == (Role.MEDICAL_PROVIDER, False)


def test_a_clinic_admin_cannot_move_her_own_account_holder_into_another_clinic(client, dana, maria, west):
    client.force_login(dana)
    data = posted_values(client.get(change_url(maria)).context["adminform"].form)

    response = client.post(change_url(maria), {**data, "clinics": [west.pk]})

    assert response.status_code == 200  # the form again, with the error beside the field
    assert "clinics" in response.context["adminform"].form.errors
    assert [clinic.code for clinic in maria.clinics.all()] == ["north"]


def test_a_clinic_admin_adds_accounts_to_her_clinics_only_and_never_staff(client, dana, north, west):
    client.force_login(dana)
    url = reverse("admin:accounts_user_add")
    data = {
        "username": "newcomer",
        "usable_password": "true",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        "role": Role.CARE_MANAGER,
        "fte": "1.00",
        "is_staff": "on",
        "is_superuser": "on",
    }

    into_west = client.post(url, {**data, "clinics": [west.pk]})
    into_nowhere = client.post(url, data)
    into_north = client.post(url, {**data, "clinics": [north.pk]})

    assert (into_west.status_code, into_nowhere.status_code) == (200, 200)
    assert into_north.status_code == 302
    added = User.objects.get(username="newcomer")
    assert list(added.clinics.all()) == [north]
    assert not added.is_staff and not added.is_superuser


def test_a_clinic_admin_cannot_delete_an_account(client, dana, maria):
    client.force_login(dana)

    page = client.post(reverse("admin:accounts_user_delete", args=[maria.pk]), {"post": "yes"})
    bulk = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "delete_selected", "_selected_action": [maria.pk], "post": "yes"},
    )

    assert page.status_code == 403
    assert bulk.status_code in (200, 302)
    assert User.objects.filter(pk=maria.pk).exists()


def test_a_superuser_manages_every_account(client, root, drchen):
    client.force_login(root)

    posted = client.post(
        password_url(drchen), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    )

    assert posted.status_code == 302
    drchen.refresh_from_db()
    assert drchen.check_password(NEW_PASSWORD)


def test_groups_are_a_superusers_to_edit(client, dana, root):
    client.force_login(dana)

    listed = client.get(reverse("admin:auth_group_changelist"))
    added = client.post(reverse("admin:auth_group_add"), {"name": "everything"})

    assert (listed.status_code, added.status_code) == (403, 403)
    client.force_login(root)
    assert client.get(reverse("admin:auth_group_changelist")).status_code == 200


# --- 4. The account's history keeps no password hash and no login times ---------------------


def test_the_account_history_keeps_no_password_or_last_login(client, root, maria):
    maria.set_password(NEW_PASSWORD)
    maria.save()
    client.force_login(maria)  # sets last_login
    client.force_login(root)

    page = client.get(reverse("admin:accounts_user_history", args=[maria.pk])).content.decode()

    columns = {
        column.name
        for column in connection.introspection.get_table_description(
            connection.cursor(), User.history.model._meta.db_table
        )
    }
    assert "password" not in columns and "last_login" not in columns
    assert "pbkdf2" not in page and "md5$" not in page and maria.password not in page
    assert "Password" not in page


def test_a_login_adds_no_version_to_the_account_history(client, maria):
    versions = maria.history.count()

    client.post("/login/", {"username": "maria", "password": "correct-horse-battery-staple"})

    assert User.objects.get(pk=maria.pk).last_login is not None
    assert maria.history.count() == versions
