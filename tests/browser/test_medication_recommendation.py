"""The care manager marks "Start sertraline 50 mg" implemented and the medication list follows,
in the same step (docs/user-guide.md#recommendations)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from consults import notes
from tests.browser.sessions import log_in_as
from tests.factories import ClinicFactory, EpisodeFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def accepted_start():
    """Rosa Quintero's signed note recommends sertraline 50 mg; her PCP has accepted it."""
    clinic = ClinicFactory(code="north", name="North Clinic")
    maria = UserFactory(username="maria", first_name="Maria", last_name="Lopez", clinics=[clinic])
    pcp = UserFactory(username="drwells", role=Role.MEDICAL_PROVIDER, fte=None, clinics=[clinic])
    consultant = UserFactory(username="drchen", role=Role.PSYCHIATRIC_CONSULTANT, fte=None, clinics=[clinic])
    episode = EpisodeFactory(
        patient__clinic=clinic,
        patient__care_manager=maria,
        patient__pcp=pcp,
        patient__last_name="Quintero",
        patient__first_name="Rosa",
    )
    note = notes.start_note(episode=episode, consultant=consultant, by=consultant)
    notes.save_draft(
        review=note,
        by=consultant,
        reviewed_on=timezone.localdate() - datetime.timedelta(days=2),
        assessment="MDD.",
        diagnoses=[],
        summary="",
    )
    recommendation = notes.add_recommendation(
        review=note, by=consultant, kind="start_medication", drug="sertraline", dose="50 mg"
    )
    notes.sign(review=note, by=consultant)
    notes.respond(recommendation=recommendation, by=pcp, response="accepted")
    return maria, episode


def test_implementing_a_start_adds_the_medication_filled_in_from_the_recommendation(page, live_server, accepted_start):
    maria, episode = accepted_start
    log_in_as(page, live_server, maria)
    page.goto(reverse("consults:recommendations"))

    page.get_by_role("link", name="Implemented: update medications").click()
    expect(page.get_by_label("Change the medication list to match")).to_be_checked()
    expect(page.get_by_label("Medication", exact=True)).to_have_value("sertraline")
    expect(page.get_by_label("Dose")).to_have_value("50 mg")
    page.get_by_label("Frequency / instructions").fill("Once daily in the morning")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("Start a medication sertraline 50 mg: implementation recorded.")).to_be_visible()
    page.goto(reverse("patients:detail", args=[episode.patient_id]))
    expect(page.get_by_text("No current medications recorded")).to_have_count(0)
    expect(page.locator("body")).to_contain_text("sertraline")
