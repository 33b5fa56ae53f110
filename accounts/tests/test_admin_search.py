"""The Django admin keeps names and MRNs out of URLs (its search box posts), and the sign-in
lockout pages, which name other clinics' staff and their addresses, are superusers' only."""

import re

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts.admin_scoping import ClinicScopedAdmin, PostedSearchAdmin, SuperuserOnlyAdmin
from accounts.models import Role
from audit.paths import patient_path
from patients.forms import CONTACT_DETAILS, DEMOGRAPHICS
from tests.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dana(clinic):
    user = UserFactory(username="dana", role=Role.CLINIC_ADMIN, fte=None, is_staff=True, clinics=[clinic])
    user.user_permissions.set(Permission.objects.all())
    return user


@pytest.fixture
def root():
    return UserFactory(username="root", role="", fte=None, is_staff=True, is_superuser=True)


@pytest.fixture
def patients(clinic):
    return [
        PatientFactory(clinic=clinic, mrn="N-100", first_name="Aurelio", last_name="Zanetti"),
        PatientFactory(clinic=clinic, mrn="N-200", first_name="Bertha", last_name="Quimby"),
    ]


CHANGELIST = reverse("admin:patients_patient_changelist")


def links(response) -> list[str]:
    return re.findall(r'(?:href|action)="([^"]*)"', response.content.decode())


def shown(response) -> list[str]:
    return [patient.mrn for patient in response.context["cl"].result_list]


def test_the_admin_search_travels_in_a_post_and_never_in_the_url(client, dana, patients):
    client.force_login(dana)

    searched = client.post(CHANGELIST, {"q": "Zanetti", "_search": "Search"})
    listed = client.get(searched["Location"])
    opened = client.get(reverse("admin:patients_patient_change", args=[patients[0].pk]))

    assert searched.status_code == 302
    assert "Zanetti" not in searched["Location"]
    assert shown(listed) == ["N-100"]
    assert 'value="Zanetti"' in listed.content.decode()  # kept in the box
    assert not [link for link in links(listed) + links(opened) if "Zanetti" in link or "q=" in link]


def test_a_search_in_the_query_string_is_not_run_and_leaves_the_url(client, dana, patients):
    client.force_login(dana)

    response = client.get(CHANGELIST, {"q": "Zanetti", "sex": "female"})

    assert response.status_code == 302
    assert "Zanetti" not in response["Location"]
    assert "sex=female" in response["Location"]  # filters are kept: they name no one
    assert sorted(shown(client.get(response["Location"]))) == ["N-100", "N-200"]


def test_clearing_the_search_lists_everything_again(client, dana, patients):
    client.force_login(dana)
    client.post(CHANGELIST, {"q": "N-200", "_search": "Search"})

    cleared = client.post(CHANGELIST, {"q": "N-200", "_clear_search": "Clear"})

    assert sorted(shown(client.get(cleared["Location"]))) == ["N-100", "N-200"]


def test_every_admin_page_searches_by_post():
    plain = [type(a).__name__ for a in admin.site._registry.values() if not isinstance(a, PostedSearchAdmin)]

    assert plain == []


def test_every_admin_page_is_clinic_scoped_or_a_superusers():
    unscoped = [
        type(a).__name__
        for a in admin.site._registry.values()
        if not isinstance(a, ClinicScopedAdmin | SuperuserOnlyAdmin)
    ]

    assert unscoped == []


IDENTIFYING = set(DEMOGRAPHICS + CONTACT_DETAILS) - {"sex", "preferred_language"}


def _filtered_fields(model_admin) -> list[str]:
    names = [f if isinstance(f, str) else f[0] for f in model_admin.list_filter if not isinstance(f, type)]
    return names + ([model_admin.date_hierarchy] if model_admin.date_hierarchy else [])


@pytest.mark.parametrize(
    "model_admin",
    [a for m, a in admin.site._registry.items() if patient_path(m) is not None],
    ids=lambda a: type(a).__name__,
)
def test_no_admin_list_filter_puts_a_patients_identity_in_the_url(model_admin):
    path = patient_path(model_admin.model)
    prefix = f"{path}__" if path else ""

    for name in _filtered_fields(model_admin):
        assert name.removeprefix(prefix) not in IDENTIFYING, f"{type(model_admin).__name__} filters on {name}"


@pytest.fixture
def lockout_rows():
    common = {"user_agent": "Firefox", "ip_address": "203.0.113.9", "username": "west-cm", "http_accept": "*/*"}
    return [
        AccessAttempt.objects.create(**common, path_info="/login/", get_data="", post_data="", failures_since_start=3),
        AccessLog.objects.create(**common, path_info="/login/"),
        AccessFailureLog.objects.create(**common, path_info="/login/", locked_out=False),
    ]


@pytest.mark.parametrize("index", [0, 1, 2], ids=["attempts", "logs", "failures"])
def test_lockout_pages_are_superusers_only(client, dana, root, lockout_rows, index):
    row = lockout_rows[index]
    prefix = f"admin:axes_{row._meta.model_name}"
    client.force_login(dana)

    listed = client.get(reverse(f"{prefix}_changelist"))
    opened = client.get(reverse(f"{prefix}_change", args=[row.pk]))
    deleted = client.post(reverse(f"{prefix}_delete", args=[row.pk]), {"post": "yes"})
    index_page = client.get(reverse("admin:index")).content.decode()

    assert (listed.status_code, opened.status_code, deleted.status_code) == (403, 403, 403)
    assert "west-cm" not in listed.content.decode() + opened.content.decode()
    assert "Access attempts" not in index_page
    assert type(row).objects.filter(pk=row.pk).exists()
    client.force_login(root)
    assert client.get(reverse(f"{prefix}_changelist")).status_code == 200
