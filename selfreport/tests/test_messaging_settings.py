"""A clinic admin's page for the clinic's messages to patients: quiet hours and the reminder."""

import datetime

import pytest
from django.urls import reverse

from accounts.models import Role
from registry.models import RegistrySettings
from selfreport.models import MessagingSettings
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, clinic):
    client.force_login(UserFactory(username="admin", role=Role.CLINIC_ADMIN, fte=None, clinics=[clinic]))
    return client


def test_defaults_are_overnight_quiet_hours_and_a_reminder_two_days_before_expiry(admin_client, clinic):
    form = admin_client.get(reverse("selfreport:settings")).context["form"]

    assert form["quiet_hours_start"].value() == datetime.time(20, 0)
    assert form["quiet_hours_end"].value() == datetime.time(8, 0)
    assert form["reminder_days_before_expiry"].value() == 2
    assert not MessagingSettings.objects.exists()


def test_clinic_admin_changes_quiet_hours_and_the_change_is_kept_with_who(admin_client, clinic):
    response = admin_client.post(
        reverse("selfreport:settings"),
        {"quiet_hours_start": "21:00", "quiet_hours_end": "09:30", "reminder_days_before_expiry": "1"},
    )

    assert response.status_code == 302
    saved = MessagingSettings.objects.get(clinic=clinic)
    assert (saved.quiet_hours_start, saved.quiet_hours_end) == (datetime.time(21, 0), datetime.time(9, 30))
    assert saved.history.get().history_user.username == "admin"


def test_a_reminder_must_come_before_the_link_expires(admin_client, clinic):
    RegistrySettings.objects.create(clinic=clinic, self_report_link_days=5)

    response = admin_client.post(
        reverse("selfreport:settings"),
        {"quiet_hours_start": "21:00", "quiet_hours_end": "07:00", "reminder_days_before_expiry": "5"},
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert "A link lasts 5 days" in page
    assert 'value="21:00"' in page
    assert not MessagingSettings.objects.exists()


def test_care_managers_cannot_change_them(cm_client):
    assert cm_client.get(reverse("selfreport:settings")).status_code == 403


def test_reachable_from_the_registry_settings_page(admin_client, clinic):
    page = admin_client.get(reverse("registry:settings")).content.decode()

    assert f"{reverse('selfreport:settings')}?clinic={clinic.pk}" in page


def test_an_admin_sees_only_their_own_clinics_settings(admin_client, clinic, other_clinic):
    response = admin_client.get(reverse("selfreport:settings"), {"clinic": other_clinic.pk})

    assert response.context["clinic"] == clinic
