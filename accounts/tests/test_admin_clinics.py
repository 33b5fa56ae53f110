"""The clinic page of the Django admin: a clinic admin sees and changes her own clinics only."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts.models import Clinic, Role
from tests.admin_forms import posted_values
from tests.factories import ClinicFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def north():
    return ClinicFactory(code="north", name="North Valley", timezone="America/Los_Angeles")


@pytest.fixture
def east():
    clinic = ClinicFactory(code="east", name="Eastside", timezone="America/New_York")
    clinic.name = "Eastside Community Health"
    clinic.save()
    return clinic


@pytest.fixture
def dana(north):
    user = UserFactory(username="dana", role=Role.CLINIC_ADMIN, fte=None, is_staff=True, clinics=[north])
    user.user_permissions.set(Permission.objects.all())
    return user


@pytest.fixture
def root():
    return UserFactory(username="root", role="", fte=None, is_staff=True, is_superuser=True)


def url(view: str, *args) -> str:
    return reverse(f"admin:accounts_clinic_{view}", args=args)


def test_a_clinic_admin_lists_only_her_clinics(client, dana, north, east):
    client.force_login(dana)

    response = client.get(url("changelist"))

    assert [clinic.pk for clinic in response.context["cl"].result_list] == [north.pk]
    assert "Eastside" not in response.content.decode()


@pytest.mark.parametrize("view", ["change", "history", "delete"])
def test_another_clinics_pages_are_not_found(client, dana, east, view):
    client.force_login(dana)

    response = client.get(url(view, east.pk))

    assert response.status_code in (302, 403, 404)
    assert "Eastside" not in response.content.decode()


def test_another_clinics_past_version_is_not_found_nor_written_back(client, dana, root, east):
    version = east.history.earliest("history_date")
    client.force_login(root)
    data = posted_values(client.get(url("simple_history", east.pk, version.history_id)).context["adminform"].form)
    client.force_login(dana)

    shown = client.get(url("simple_history", east.pk, version.history_id))
    posted = client.post(url("simple_history", east.pk, version.history_id), {**data, "timezone": "Pacific/Honolulu"})
    changed = client.post(url("change", east.pk), {**data, "name": "Renamed", "timezone": "Pacific/Honolulu"})

    assert (shown.status_code, posted.status_code) == (404, 404)
    assert changed.status_code in (302, 404)
    east.refresh_from_db()
    assert (east.name, east.timezone) == ("Eastside Community Health", "America/New_York")
    assert east.history.count() == 2


def test_a_clinic_admin_changes_her_own_clinic_but_adds_and_deletes_none(client, dana, north):
    client.force_login(dana)
    data = posted_values(client.get(url("change", north.pk)).context["adminform"].form)

    changed = client.post(url("change", north.pk), {**data, "timezone": "America/Denver"})
    added = client.post(url("add"), {**data, "code": "mine", "name": "Mine"})
    deleted = client.post(url("delete", north.pk), {"post": "yes"})

    assert changed.status_code == 302
    assert Clinic.objects.get(pk=north.pk).timezone == "America/Denver"
    assert (added.status_code, deleted.status_code) == (403, 403)
    assert list(Clinic.objects.values_list("code", flat=True)) == ["north"]
