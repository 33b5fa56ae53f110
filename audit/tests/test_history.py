"""Clinic admins see every version of every clinical row of one patient, with what changed."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.paths import clinical_history_models
from patients import services as patient_services
from registry import services
from tests.factories import record_contact, record_score

pytestmark = pytest.mark.django_db


def history_url(patient) -> str:
    return reverse("audit:patient_history", args=[patient.pk])


def test_every_clinical_model_with_history_is_found():
    names = {m._meta.label for m in clinical_history_models()}

    assert {
        "patients.Patient",
        "patients.Episode",
        "registry.Contact",
        "registry.Measurement",
        "registry.Flag",
        "registry.SafetyAssessment",
        "consults.CaseReview",
        "consults.Recommendation",
        "patients.TreatmentPlan",
        "care.Medication",
        "care.Referral",
    } <= names
    assert "accounts.Clinic" not in names and "consults.Agenda" not in names


def test_the_page_shows_who_changed_what_newest_first(client, clinic_admin, care_manager, patient, episode):
    patient_services.update_patient(patient=patient, by=care_manager, phone="555-0100")
    contact = record_contact(episode, episode.enrolled_on, care_manager)
    services.mark_contact_entered_in_error(contact=contact, by=care_manager, reason="Wrong patient.")
    client.force_login(clinic_admin)

    response = client.get(history_url(patient))

    assert response.status_code == 200
    versions = response.context["versions"]
    assert [v.at for v in versions] == sorted((v.at for v in versions), reverse=True)
    phone_change = next(v for v in versions if v.model == "Patient" and v.kind == "changed")
    assert ("Phone", "", "555-0100") in [(c.field, c.old, c.new) for c in phone_change.changes]
    assert phone_change.by == care_manager
    contact_changes = [c.field for v in versions if v.model == "Contact" and v.kind == "changed" for c in v.changes]
    assert "Entered in error reason" in contact_changes or "Entered-in-error reason" in contact_changes
    assert "555-0100" in response.content.decode()


def test_the_page_costs_the_same_queries_for_a_short_or_long_history(client, clinic_admin, care_manager, episode):
    client.force_login(clinic_admin)
    url = history_url(episode.patient)
    client.get(url)
    with CaptureQueriesContext(connection) as short:
        client.get(url)
    for day in range(1, 6):
        record_score(episode, "PHQ9", 10 + day, episode.enrolled_on, care_manager)
        record_contact(episode, episode.enrolled_on, care_manager)

    with CaptureQueriesContext(connection) as long:
        response = client.get(url)

    assert len(response.context["versions"]) > 10
    assert len(short) == len(long)


def test_another_clinics_patient_is_not_found_and_care_managers_may_not(client, other_admin, care_manager, patient):
    client.force_login(other_admin)
    other_clinics = client.get(history_url(patient))
    client.force_login(care_manager)
    care_managers = client.get(history_url(patient))

    assert (other_clinics.status_code, care_managers.status_code) == (404, 403)


def test_the_patient_page_links_to_it_for_clinic_admins_only(client, clinic_admin, care_manager, patient, episode):
    client.force_login(clinic_admin)
    admins_page = client.get(reverse("patients:detail", args=[patient.pk])).content.decode()
    client.force_login(care_manager)
    care_managers_page = client.get(reverse("patients:detail", args=[patient.pk])).content.decode()

    assert history_url(patient) in admins_page
    assert history_url(patient) not in care_managers_page


def test_changes_show_choice_labels_and_peoples_names_not_stored_codes_and_ids(
    client, clinic_admin, care_manager, episode
):
    contact = record_contact(episode, episode.enrolled_on, care_manager)
    services.mark_contact_entered_in_error(contact=contact, by=care_manager, reason="Wrong patient.")
    patient_services.change_status(episode=episode, by=care_manager, status="active", on=episode.enrolled_on)
    client.force_login(clinic_admin)

    versions = client.get(history_url(episode.patient)).context["versions"]

    changes = {(v.model, c.field): (c.old, c.new) for v in versions for c in v.changes}
    assert changes[("Contact", "Entered in error by")] == (None, str(care_manager))
    assert changes[("Episode", "Status")] == ("Enrolled (initial assessment pending)", "Active treatment")
