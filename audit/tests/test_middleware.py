"""The access log records reads: who, when, from where, what, and whether it was allowed."""

import pytest
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.models import Role
from audit.middleware import outcome_of
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

    kinds = list(AccessEvent.objects.order_by("pk").values_list("url_name", "kind", "patient_id", "outcome"))
    assert kinds[:4] == [
        ("registry:dashboard", Kind.LIST, None, Outcome.ALLOWED),
        ("registry:dashboard", Kind.SEARCH, None, Outcome.SUBMITTED),  # answered by a redirect to the list
        ("interchange:export_csv", Kind.EXPORT, None, Outcome.ALLOWED),
        ("patients:relapse_plan_print", Kind.PRINT, patient.pk, Outcome.ALLOWED),
    ]
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


# --- Only answers that showed, refused or accepted something are logged -------------------


def test_a_get_to_a_post_only_page_of_another_clinics_patient_is_not_a_read(client, outsider, patient, episode):
    client.force_login(outsider)

    response = client.get(reverse("patients:change_status", args=[patient.pk]))

    assert response.status_code == 405
    assert not AccessEvent.objects.exists()  # was logged as "emergency" with status 405


def test_a_session_that_has_not_given_its_second_factor_is_shown_nothing_and_logs_nothing(
    client, care_manager, patient, episode
):
    client.force_login(care_manager)
    session = client.session
    del session[DEVICE_ID_SESSION_KEY]  # password given, code not yet
    session.save()

    response = client.get(reverse("patients:detail", args=[patient.pk]))

    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:mfa_verify"))
    assert not AccessEvent.objects.exists()  # was logged as "allowed" with status 302


def test_a_form_accepted_with_a_redirect_is_logged_as_sent_and_the_page_it_leads_to_as_a_read(
    cm_client, patient, episode
):
    url = reverse("registry:request_review", args=[patient.pk])
    sent = cm_client.post(url, {"reason": "Not improving on the current dose."})
    shown = cm_client.get(sent["Location"])

    assert (sent.status_code, shown.status_code) == (302, 200)
    events = list(AccessEvent.objects.order_by("pk").values_list("url_name", "outcome", "status_code", "patient_id"))
    assert events == [
        ("registry:request_review", Outcome.SUBMITTED, 302, patient.pk),
        ("patients:detail", Outcome.ALLOWED, 200, patient.pk),
    ]


@pytest.mark.parametrize(
    ("status", "method", "names_a_patient", "outside", "logged"),
    [
        (200, "GET", True, False, Outcome.ALLOWED),
        (200, "GET", True, True, Outcome.EMERGENCY),
        (200, "GET", False, False, Outcome.ALLOWED),  # a list, report or export
        (400, "POST", True, False, Outcome.ALLOWED),  # the patient's form sent back with its errors
        (400, "GET", False, False, None),  # a report's bad period: nothing shown
        (404, "GET", True, True, Outcome.DENIED),
        (403, "POST", False, False, Outcome.DENIED),
        (302, "POST", True, False, Outcome.SUBMITTED),
        (302, "GET", True, False, None),
        (405, "GET", True, True, None),
        (500, "GET", True, False, None),
    ],
)
def test_the_outcome_says_what_the_answer_did(status, method, names_a_patient, outside, logged):
    assert outcome_of(status, method, names_a_patient=names_a_patient, outside=outside) == logged


def test_a_redirect_after_a_get_is_not_a_read(client, clinic):
    client.force_login(UserFactory(username="admin", role=Role.CLINIC_ADMIN, fte=None, clinics=[clinic]))

    response = client.get(reverse("registry:billing_index"))

    assert response.status_code == 302
    assert not AccessEvent.objects.exists()
