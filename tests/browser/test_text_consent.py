"""A care manager records a patient's consent to texts from the patient page, in Chromium."""

import pytest
from playwright.sync_api import expect

from patients.models import Episode
from selfreport.models import TextConsent
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, ClinicFactory, EpisodeFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_care_manager_records_consent_to_texts_fixes_a_typo_and_withdraws_it(page):
    clinic = ClinicFactory(code="north", name="North Clinic")
    UserFactory(username="maria", first_name="Maria", last_name="Lopez", clinics=[clinic])
    episode = EpisodeFactory(patient__clinic=clinic, patient__phone="206-555-0123", status=Episode.Status.ACTIVE)
    log_in(page, "maria", PASSWORD)
    page.goto(f"/patients/{episode.patient.pk}/")
    panel = page.locator("section[aria-labelledby='self-report-h']")
    expect(panel.locator("[data-text-consent]")).to_contain_text("no consent recorded")

    panel.locator("summary", has_text="Record consent to texts").click()
    expect(panel.get_by_label("Mobile number")).to_have_value("(206) 555-0123")  # offered from the phone
    panel.get_by_label("Mobile number").fill("206-555")
    panel.get_by_label("The patient agrees to receive text messages").check()
    panel.get_by_role("button", name="Record consent to texts").click()

    # The typo comes back with its error beside the field, and what was typed.
    expect(page.get_by_text("This is not a valid phone number")).to_be_visible()
    expect(page.get_by_label("Mobile number")).to_have_value("206-555")
    page.get_by_label("Mobile number").fill("206 555 0199")
    page.get_by_role("button", name="Record consent to texts").click()

    page.wait_for_url(f"**/patients/{episode.patient.pk}/")
    expect(panel.locator("[data-text-consent='given']")).to_contain_text("(206) 555-0199")
    assert TextConsent.objects.get().phone_number == "+12065550199"

    panel.get_by_role("button", name="withdraw consent").click()
    expect(panel.locator("[data-text-consent='withdrawn']")).to_contain_text("Texts stopped")
