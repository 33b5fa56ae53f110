"""A team's week in Chromium, each role in turn through its own pages: the care manager's
contact with item 9 = 2 and the safety assessment, the consultant's awaiting list (safety
first, with its facts and the MRN) and signed note, the PCP's answer from his home, and the
recommendation carried onto the medication list.

The no-sideways-scroll check at 390 px lives in test_caseload_and_patient_page.py."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from consults.models import Recommendation
from registry import services
from registry.models import Flag, SafetyAssessment
from registry.safety import short_date
from tests.browser.sessions import log_in_as
from tests.factories import ClinicFactory, EpisodeFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHQ9_WITH_ITEM9_OF_2 = [2, 2, 2, 2, 2, 2, 1, 1, 2]  # total 16, item 9 "more than half the days"


@pytest.fixture
def team():
    """North Clinic: Maria Lopez (care manager), Dr Ines Chen (consultant), Dr Aaron Wells (PCP);
    Rosa Quintero newly enrolled and not yet seen, and two patients already waiting for
    review whose names sort before hers: Haddad not improving, Abbott new."""
    clinic = ClinicFactory(code="north", name="North Clinic")
    maria = UserFactory(username="maria", first_name="Maria", last_name="Lopez", clinics=[clinic])
    consultant = UserFactory(
        username="drchen",
        first_name="Ines",
        last_name="Chen",
        role=Role.PSYCHIATRIC_CONSULTANT,
        fte=None,
        clinics=[clinic],
    )
    pcp = UserFactory(
        username="drwells",
        first_name="Aaron",
        last_name="Wells",
        role=Role.MEDICAL_PROVIDER,
        fte=None,
        clinics=[clinic],
    )
    episodes = {}
    for last, first, mrn, flag in [
        ("Quintero", "Rosa", "A1001", None),
        ("Haddad", "Omar", "A1002", Flag.Kind.NOT_IMPROVING),
        ("Abbott", "June", "A1003", Flag.Kind.NEW_PATIENT),
    ]:
        episodes[last] = EpisodeFactory(
            patient__clinic=clinic,
            patient__last_name=last,
            patient__first_name=first,
            patient__mrn=mrn,
            patient__care_manager=maria,
            patient__psychiatric_consultant=consultant,
            patient__pcp=pcp,
            enrolled_on=timezone.localdate(),
        )
        if flag:
            services.raise_flag(episode=episodes[last], kind=flag, reason="A rule holds.")
    return maria, consultant, pcp, episodes


def _to_safety_assessment(page) -> None:
    """From the page the contact's save leads to, on to the safety assessment form: today the
    patient page's safety banner offers it; a save that lands on the form itself needs no click."""
    heading = page.get_by_role("heading", name="Safety assessment", exact=True)
    if not heading.is_visible():
        page.get_by_role("link", name="Record safety assessment").click()
    expect(heading).to_be_visible()


def test_a_week_of_the_team_from_an_item_9_answer_to_sertraline_on_the_medication_list(page, live_server, team):
    maria, consultant, pcp, episodes = team
    rosa = episodes["Quintero"].patient
    today = short_date(timezone.localdate())

    # 1. The care manager's first contact: PHQ-9 16 with item 9 = 2, then the safety assessment.
    log_in_as(page, live_server, maria)
    page.goto(reverse("patients:detail", args=[rosa.pk]))
    page.get_by_role("link", name="Record a contact with medications, sessions, referral and education").click()
    page.get_by_label("Kind").select_option("initial_assessment")
    page.get_by_label("Mode").select_option("in_person")
    page.get_by_label("Care manager minutes").fill("45")
    for item, answer in enumerate(PHQ9_WITH_ITEM9_OF_2, start=1):
        page.locator(f"input[name='phq9-item_{item}'][value='{answer}']").check()
    page.get_by_role("button", name="Save contact").click()
    expect(page.get_by_text(re.compile("Contact saved"))).to_be_visible()

    _to_safety_assessment(page)
    page.get_by_label("Risk level").select_option("moderate")
    page.get_by_label("Safety plan made or reviewed").check()
    page.get_by_label("Psychiatric consultant notified").check()
    page.get_by_label("Assessment and plan").fill("Passive thoughts, no plan or intent; safety plan made.")
    page.get_by_role("button", name="Record assessment and resolve flag").click()
    expect(page.get_by_text("Safety assessment recorded; the safety flag is resolved.")).to_be_visible()
    assessment = SafetyAssessment.objects.get(episode=episodes["Quintero"])
    assessed_at = timezone.localtime(assessment.assessed_at)

    # 2. The consultant's home: Rosa first, her safety facts and MRN in view.
    log_in_as(page, live_server, consultant)
    page.goto("/")
    expect(page.get_by_role("heading", name=re.compile("Patients awaiting review"))).to_be_visible()
    awaiting = page.locator("#awaiting tbody tr td:first-child")
    expect(awaiting).to_have_text(["Quintero, Rosa", "Haddad, Omar", "Abbott, June"])  # not by name
    first = page.locator("#awaiting tbody tr").first
    expect(first).to_contain_text("A1001")
    facts = first.locator("[data-safety-facts]")
    expect(facts).to_be_visible()
    expect(facts.locator("[data-safety-answer]")).to_have_text(f"PHQ-9 item 9 = 2 on {today}")
    expect(facts.locator("[data-safety-assessment]")).to_contain_text(
        f"Moderate risk, Maria Lopez, {today} {assessed_at:%H:%M}; plan: Safety plan made or reviewed"
    )

    # 3. The consultant writes and signs a note that recommends sertraline 50 mg.
    first.get_by_role("link", name="Quintero, Rosa").click()
    page.get_by_role("button", name="Consultation note").click()
    page.get_by_label("Assessment", exact=True).fill("Moderate MDD, passive suicidal thoughts; safety plan made.")
    page.get_by_label("Diagnostic impression (ICD-10)").fill("F32.1")
    page.get_by_label("Recommendation", exact=True).select_option("start_medication")
    page.get_by_label("Medication", exact=True).fill("sertraline")
    page.get_by_label("Dose", exact=True).fill("50 mg")
    page.get_by_role("button", name="Add recommendation").click()
    expect(page.locator("#note [data-recommendation='start_medication']")).to_contain_text("sertraline 50 mg")
    page.get_by_role("button", name="Sign note").click()
    expect(page.get_by_text("Note on Quintero signed.")).to_be_visible()

    # 4. The care manager brings it to the PCP.
    log_in_as(page, live_server, maria)
    page.goto(reverse("consults:recommendations"))
    row = page.locator("#recommendations tbody tr", has_text="Quintero, Rosa")
    row.get_by_label("How").select_option("ehr_message")
    row.get_by_role("button", name="Communicated to PCP").click()
    expect(page.get_by_text("communication to the PCP recorded.")).to_be_visible()

    # 5. The PCP lands on what waits for his answer, nothing chosen beforehand, and accepts.
    log_in_as(page, live_server, pcp)
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Recommendations waiting for your answer")
    card = page.locator("section[data-recommendation]", has_text="Quintero, Rosa")
    expect(card).to_contain_text("Start a medication sertraline 50 mg")
    for answer in card.get_by_role("radio").all():
        expect(answer).not_to_be_checked()
    card.get_by_label("Accepted", exact=True).check()
    card.get_by_role("button", name="Send my answer").click()
    expect(page.locator("[data-nothing-awaiting]")).to_be_visible()

    # 6. The care manager marks it implemented, the medication change filled in.
    log_in_as(page, live_server, maria)
    page.goto(reverse("consults:recommendations"))
    page.locator("#recommendations tbody tr", has_text="Quintero, Rosa").get_by_role(
        "link", name="Implemented: update medications"
    ).click()
    expect(page.get_by_label("Change the medication list to match")).to_be_checked()
    expect(page.get_by_label("Medication", exact=True)).to_have_value("sertraline")
    expect(page.get_by_label("Dose")).to_have_value("50 mg")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("implementation recorded.")).to_be_visible()

    page.goto(reverse("patients:detail", args=[rosa.pk]))
    expect(page.locator("[data-medications='current'] tbody tr").first).to_contain_text("sertraline 50 mg")
    recommendation = Recommendation.objects.get(episode=episodes["Quintero"])
    assert (recommendation.status, recommendation.responded_by, recommendation.communicated_by) == (
        Recommendation.Status.IMPLEMENTED,
        pcp,
        maria,
    )
