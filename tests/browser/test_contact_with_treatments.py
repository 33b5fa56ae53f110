"""A care manager records, in one sitting, a contact with a PHQ-9, a medication side effect, a
PST session and a referral, and sees them all on the patient page."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from care import services as care
from care.models import InterventionSession, MedicationReport, Referral
from patients.services import enroll_patient
from registry.models import Contact, Measurement
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, ClinicFactory, UserFactory, record_contact

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


@pytest.fixture
def patient():
    clinic = ClinicFactory(code="north", name="North Clinic")
    maria = UserFactory(username="maria", first_name="Maria", last_name="Lopez", clinics=[clinic])
    pcp = UserFactory(
        username="drwells", first_name="Aaron", last_name="Wells", role=Role.MEDICAL_PROVIDER, clinics=[clinic]
    )
    patient = enroll_patient(
        clinic=clinic,
        enrolled_on=days_ago(40),
        by=maria,
        mrn="A2001",
        first_name="Rosa",
        last_name="Quintero",
        birth_date=datetime.date(1979, 3, 14),
        sex="female",
        care_manager=maria,
        pcp=pcp,
    )
    episode = patient.episodes.get()
    first = record_contact(episode, days_ago(14), maria, kind="initial_assessment")
    care.record_treatment_details(
        contact=first, by=maria, sessions=[care.SessionInput("problem_solving", planned_sessions=6)]
    )
    care.add_medication(
        episode=episode, by=maria, name="sertraline", dose="50 mg", started_on=days_ago(30), prescriber=pcp
    )
    return patient


def test_contact_with_phq9_side_effect_pst_session_and_referral_in_one_sitting(page, patient):
    log_in(page, "maria", PASSWORD)
    page.goto(f"/patients/{patient.pk}/")
    page.get_by_role("link", name="Record a contact with medications, sessions, referral and education").click()
    expect(page.get_by_role("heading", name="Record a contact")).to_be_visible()

    page.locator("select[name='kind']").select_option("follow_up")
    page.locator("select[name='mode']").select_option("phone")
    page.locator("input[name='minutes']").fill("30")
    for item, answer in enumerate([2, 2, 1, 2, 1, 1, 1, 2, 0], start=1):  # PHQ-9 total 12
        page.locator(f"input[name='phq9-item_{item}'][value='{answer}']").check()
    medication = page.locator("[data-medication-report]", has_text="sertraline 50 mg")
    medication.get_by_label("Adherence").select_option("as_prescribed")
    medication.get_by_label("Side effects", exact=True).select_option("mild")
    medication.get_by_label("Which side effects").fill("nausea after the morning dose")
    expect(page.get_by_text("Problem-solving treatment 1 of 6 (next: session 2)")).to_be_visible()
    session = page.locator("[data-session-row='1']")
    session.get_by_label("Intervention").select_option("problem_solving")
    session.get_by_label("Note").fill("Chose the housing problem to work on.")
    page.locator("select[name='referral-kind']").select_option("specialty_mh")
    page.locator("input[name='referral-to_whom']").fill("Riverside Community Mental Health")
    page.locator("input[name='referral-reason']").fill("Wants weekly psychotherapy.")
    page.get_by_role("button", name="Save contact").click()

    expect(page.get_by_text("Contact saved with scores and treatment.")).to_be_visible()
    expect(page.locator(".timeline [data-score='PHQ9']").first).to_contain_text("12")
    expect(page.locator("[data-medications='current'] [data-latest-report]")).to_contain_text(
        "side effects (mild): nausea after the morning dose"
    )
    pst = page.locator("[data-intervention='problem_solving']")
    expect(pst).to_contain_text("Problem-solving treatment")
    expect(pst).to_contain_text("2 / 6")
    referral = page.locator("[data-referral]", has_text="Riverside Community Mental Health")
    expect(referral).to_contain_text("Specialty mental health")
    expect(referral.locator("[data-referral-status]")).to_have_text("Sent")

    contact = Contact.objects.get(episode__patient=patient, kind="follow_up")
    assert Measurement.objects.get(contact=contact).total == 12
    assert MedicationReport.objects.get(contact=contact).side_effect_severity == "mild"
    assert InterventionSession.objects.get(contact=contact).session_number == 2
    assert Referral.objects.get(contact=contact).status == "sent"
    assert "problem_solving" in contact.interventions
