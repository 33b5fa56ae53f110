"""The access log records reads: who, when, from where, what, and whether it was allowed."""

import pytest
from django.urls import reverse

from accounts.models import Role
from audit.models import AccessEvent, Kind, Outcome
from patients import plans
from registry.models import Contact
from selfreport import services as self_report_services
from tests.factories import UserFactory, record_contact, record_score

pytestmark = pytest.mark.django_db


def only_event() -> AccessEvent:
    (event,) = AccessEvent.objects.all()
    return event


def test_reading_a_patients_page_is_logged_with_who_what_and_from_where(cm_client, care_manager, patient, episode):
    response = cm_client.get(reverse("patients:detail", args=[patient.pk]), REMOTE_ADDR="10.1.2.3")

    assert response.status_code == 200
    event = only_event()
    assert (event.user, event.username, event.remote_addr) == (care_manager, "cm", "10.1.2.3")
    assert (event.kind, event.outcome, event.status_code, event.method) == (Kind.RECORD, Outcome.ALLOWED, 200, "GET")
    assert (event.patient_id, event.clinic_id, event.url_name) == (patient.pk, patient.clinic_id, "patients:detail")


def test_a_page_of_a_clinical_row_is_logged_against_its_patient(cm_client, care_manager, patient, episode):
    contact = record_contact(episode, episode.enrolled_on, care_manager)
    AccessEvent.objects.all()  # nothing so far: saves made outside a request are not reads

    cm_client.get(reverse("registry:contact_entered_in_error", args=[contact.pk]))

    assert (only_event().patient_id, only_event().kind) == (patient.pk, Kind.RECORD)
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_another_clinics_patient_is_logged_as_a_denied_attempt(client, outsider, patient, episode):
    client.force_login(outsider)

    response = client.get(reverse("patients:detail", args=[patient.pk]) + "?q=SMITH")

    assert response.status_code == 404
    event = only_event()
    assert (event.outcome, event.patient_id, event.clinic_id) == (Outcome.DENIED, patient.pk, patient.clinic_id)
    assert event.user == outsider


def test_an_id_that_names_no_patient_is_still_logged_as_denied(cm_client):
    assert cm_client.get(reverse("patients:detail", args=[987654])).status_code == 404

    assert (only_event().outcome, only_event().patient_id) == (Outcome.DENIED, None)


def test_lists_searches_exports_and_prints_are_logged_by_kind(cm_client, care_manager, patient, episode):
    plans.save_relapse_plan(episode=episode, by=care_manager, warning_signs="Poor sleep.")
    cm_client.get(reverse("registry:dashboard"))
    cm_client.post(reverse("registry:dashboard"), {"q": "Zanetti"})
    cm_client.get(reverse("interchange:export_csv"))
    cm_client.get(reverse("patients:relapse_plan_print", args=[episode.pk]))

    kinds = list(AccessEvent.objects.order_by("pk").values_list("url_name", "kind", "patient_id"))
    assert kinds[:4] == [
        ("registry:dashboard", Kind.LIST, None),
        ("registry:dashboard", Kind.SEARCH, None),
        ("interchange:export_csv", Kind.EXPORT, None),
        ("patients:relapse_plan_print", Kind.PRINT, patient.pk),
    ]
    assert set(AccessEvent.objects.values_list("outcome", flat=True)) == {Outcome.ALLOWED}
    assert not AccessEvent.objects.filter(username="").exists()


def test_no_names_or_query_strings_are_kept(cm_client, patient, episode):
    cm_client.post(reverse("registry:dashboard"), {"q": patient.last_name})
    cm_client.get(reverse("patients:detail", args=[patient.pk]), {"q": patient.last_name})

    for row in AccessEvent.objects.values():
        assert patient.last_name not in str(row)
        assert patient.mrn not in str(row)


def test_anonymous_requests_and_unlogged_pages_leave_no_event(client, cm_client):
    client.logout()
    client.get(reverse("registry:dashboard"))
    cm_client.get(reverse("patients:enroll"))

    assert not AccessEvent.objects.exists()


def test_the_forwarded_address_is_used_only_behind_our_proxy(cm_client, patient, episode, settings):
    url = reverse("patients:detail", args=[patient.pk])
    forwarded = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9, 198.51.100.7"}

    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    settings.BEHIND_PROXY = False
    cm_client.get(url, **forwarded)
    settings.BEHIND_PROXY = True
    cm_client.get(url, **forwarded)

    assert list(AccessEvent.objects.order_by("pk").values_list("remote_addr", flat=True)) == [
        "10.0.0.1",
        "198.51.100.7",  # the address our proxy saw: the left ones the client can forge
    ]


def test_a_patients_self_report_link_is_logged_against_the_patient(client, care_manager, patient, episode):
    _, token = self_report_services.send_invitation(
        episode=episode, instruments=["PHQ9"], language="en", email="p@example.org", by=care_manager
    )

    client.get(reverse("selfreport:start", args=[token]))

    event = only_event()
    assert (event.kind, event.user, event.patient_id) == (Kind.SELF_REPORT, None, patient.pk)
    assert token not in event.url_name


def test_the_django_admin_page_of_a_clinical_row_is_logged_against_its_patient(client, clinic, patient, episode):
    admin = UserFactory(username="root", role="", fte=None, is_staff=True, is_superuser=True)
    measurement = record_score(episode, "PHQ9", 12, episode.enrolled_on, admin)
    client.force_login(admin)

    response = client.get(reverse("admin:registry_measurement_change", args=[measurement.pk]))

    assert response.status_code == 200
    event = AccessEvent.objects.get(url_name="admin:registry_measurement_change")
    assert (event.kind, event.patient_id, event.outcome) == (Kind.ADMIN, patient.pk, Outcome.ALLOWED)


def test_a_refused_role_is_logged_as_denied(client, clinic):
    pcp = UserFactory(username="pcp", role=Role.MEDICAL_PROVIDER, fte=None, clinics=[clinic])
    client.force_login(pcp)

    response = client.get(reverse("registry:caseload_size"))

    assert response.status_code == 403
    assert (only_event().kind, only_event().outcome) == (Kind.REPORT, Outcome.DENIED)


def test_an_api_read_is_logged_as_the_clients_service_user(client, clinic, patient, other_patient):
    from fhirapi.tests.conftest import issue

    api_client, token = issue(clinic)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    read = client.get(f"/fhir/Patient/{patient.pk}", **auth)
    refused = client.get(f"/fhir/Patient/{other_patient.pk}", **auth)

    assert (read.status_code, refused.status_code) == (200, 404)
    events = list(AccessEvent.objects.order_by("pk").values_list("kind", "user", "patient_id", "outcome"))
    user = api_client.service_user.pk
    assert events == [(Kind.API, user, patient.pk, Outcome.ALLOWED), (Kind.API, user, other_patient.pk, Outcome.DENIED)]
