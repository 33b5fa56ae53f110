"""A care manager logs in, enrolls a patient, records a PHQ-9 and sees it everywhere."""

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from patients.models import Patient
from registry.models import Measurement
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, ClinicFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def team():
    clinic = ClinicFactory(code="north", name="North Clinic")
    care_manager = UserFactory(username="maria", first_name="Maria", last_name="Lopez", clinics=[clinic])
    UserFactory(username="drwells", first_name="Aaron", last_name="Wells", role=Role.MEDICAL_PROVIDER, clinics=[clinic])
    return care_manager


def test_enroll_record_phq9_and_see_score_and_band_on_patient_page_and_dashboard(page, team):
    log_in(page, "maria", PASSWORD)

    page.get_by_role("link", name="Enroll patient").first.click()
    page.get_by_label("MRN").fill("A1001")
    page.get_by_label("First name").fill("Rosa")
    page.get_by_label("Last name").fill("Quintero")
    page.get_by_label("Date of birth").fill("1979-03-14")
    page.get_by_label("Sex").select_option("female")
    page.get_by_label("Care manager").select_option(label="Maria Lopez")
    page.get_by_label("PCP").select_option(label="Aaron Wells")
    page.get_by_role("button", name="Enroll patient").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Quintero, Rosa")
    expect(page.get_by_text("Rosa Quintero is enrolled.")).to_be_visible()

    page.get_by_role("link", name="PHQ-9 only").click()
    answers = [2, 2, 1, 2, 1, 1, 1, 2, 0]  # total 12: moderate
    for item, answer in enumerate(answers, start=1):
        page.locator(f"input[name='phq9-item_{item}'][value='{answer}']").check()
    expect(page.locator("[data-live-total]")).to_have_text("12")
    page.get_by_role("button", name="Save PHQ-9").click()

    expect(page.get_by_text("PHQ-9 saved: 12 (moderate).")).to_be_visible()
    timeline_score = page.locator(".timeline [data-score='PHQ9']")
    expect(timeline_score).to_contain_text("12")
    expect(timeline_score).to_contain_text("moderate")
    expect(page.locator("[data-latest='PHQ9']")).to_have_text("12")
    expect(page.locator("figure.trajectory svg")).to_be_visible()

    page.get_by_role("link", name="Caseload").first.click()
    row = page.locator("#caseload tbody tr", has_text="Quintero, Rosa")
    expect(row.locator(".mrn")).to_have_text("A1001")
    expect(row.locator(".phq9-latest")).to_have_text("12")
    expect(row.locator(".phq9-baseline")).to_have_text("12")

    patient = Patient.objects.get(mrn="A1001")
    stored = Measurement.objects.get(episode__patient=patient)
    assert (stored.total, stored.band, stored.recorded_by.username) == (12, "moderate", "maria")


def test_missing_item_is_named_and_nothing_is_saved(page, team):
    log_in(page, "maria", PASSWORD)
    page.get_by_role("link", name="Enroll patient").first.click()
    page.get_by_label("MRN").fill("A1002")
    page.get_by_label("First name").fill("Omar")
    page.get_by_label("Last name").fill("Haddad")
    page.get_by_label("Date of birth").fill("1990-01-02")
    page.get_by_label("Sex").select_option("male")
    page.get_by_role("button", name="Enroll patient").click()
    page.get_by_role("link", name="GAD-7 only").click()

    for item in range(1, 7):  # item 7 left blank
        page.locator(f"input[name='gad7-item_{item}'][value='1']").check()
    expect(page.locator("[data-live-total]")).to_have_text("6 (1 unanswered)")
    page.get_by_role("button", name="Save GAD-7").click()

    expect(page.get_by_text("GAD-7 item 7 is not answered.")).to_be_visible()
    assert not Measurement.objects.filter(episode__patient__mrn="A1002").exists()
