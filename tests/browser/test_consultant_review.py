"""A psychiatric consultant runs a two-patient caseload review: notes written, a medication
recommended and signed for each patient, moving on by the Next link and by the keys."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from consults.agenda import build_agendas
from consults.models import CaseReview
from patients import services as patient_services
from registry.flags import refresh_flags
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, ClinicFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def session():
    """North Clinic's agenda of this week: Quintero then Haddad, both new patients (the rules'
    flag), care manager Maria Lopez with Dr Ines Chen."""
    clinic = ClinicFactory(code="north", name="North Clinic")
    care_manager = UserFactory(username="maria", first_name="Maria", last_name="Lopez", clinics=[clinic])
    consultant = UserFactory(
        username="drchen",
        first_name="Ines",
        last_name="Chen",
        role=Role.PSYCHIATRIC_CONSULTANT,
        fte=None,
        clinics=[clinic],
    )
    for mrn, first, last, born in [
        ("A1001", "Rosa", "Quintero", datetime.date(1979, 3, 14)),
        ("A1002", "Omar", "Haddad", datetime.date(1990, 1, 2)),
    ]:
        patient_services.enroll_patient(
            clinic=clinic,
            enrolled_on=timezone.localdate() - datetime.timedelta(days=20),
            by=care_manager,
            mrn=mrn,
            first_name=first,
            last_name=last,
            birth_date=born,
            sex="female" if first == "Rosa" else "male",
            care_manager=care_manager,
            psychiatric_consultant=consultant,
        )
    refresh_flags()
    (agenda,) = build_agendas(clinic, timezone.localdate())
    assert [item.episode.patient.last_name for item in agenda.items.order_by("position")] == ["Quintero", "Haddad"]
    return agenda


def write_and_sign(page, assessment: str, drug: str, dose: str) -> None:
    page.get_by_label("Assessment", exact=True).fill(assessment)
    page.get_by_label("Diagnostic impression (ICD-10)").fill("f33.1")
    page.get_by_label("Recommendation", exact=True).select_option("start_medication")
    page.get_by_label("Medication", exact=True).fill(drug)
    page.get_by_label("Dose", exact=True).fill(dose)
    page.get_by_role("button", name="Add recommendation").click()

    expect(page.get_by_text("Draft saved; recommendation added.")).to_be_visible()
    expect(page.locator("#note [data-recommendation='start_medication']")).to_contain_text(f"{drug} {dose}")
    expect(page.get_by_label("Assessment", exact=True)).to_have_value(assessment)  # kept across the add
    page.get_by_role("button", name="Sign note").click()
    expect(page.locator("[data-note-state='signed']")).to_be_visible()


def test_a_consultant_reviews_two_patients_and_signs_a_note_with_a_recommendation_for_each(page, session):
    log_in(page, "drchen", PASSWORD)
    page.get_by_role("link", name="My reviews").click()  # the consultant's home, also where the login lands
    expect(page.get_by_role("heading", name="Your next sessions")).to_be_visible()
    page.locator("section[aria-labelledby='next-h'] a").first.click()
    page.get_by_role("link", name="Start the review").click()

    expect(page.get_by_text("Patient 1 of 2")).to_be_visible()
    expect(page.get_by_role("heading", name="Quintero, Rosa")).to_be_visible()
    expect(page.locator("[data-never-reviewed]")).to_be_visible()
    write_and_sign(page, "Moderate recurrent MDD, untreated.", "sertraline", "25 mg")
    expect(page.get_by_text("Note on Quintero signed.")).to_be_visible()

    page.get_by_role("link", name="Next →").click()
    expect(page.get_by_text("Patient 2 of 2")).to_be_visible()
    expect(page.get_by_role("heading", name="Haddad, Omar")).to_be_visible()
    page.keyboard.press("[")
    expect(page.get_by_role("heading", name="Quintero, Rosa")).to_be_visible()
    page.keyboard.press("]")
    expect(page.get_by_role("heading", name="Haddad, Omar")).to_be_visible()
    second_page = page.url
    page.get_by_label("Assessment", exact=True).press("[")
    expect(page.get_by_label("Assessment", exact=True)).to_have_value("[")  # typed, not a move
    expect(page).to_have_url(second_page)
    write_and_sign(page, "GAD with depressive symptoms.", "escitalopram", "5 mg")
    expect(page.get_by_text("Note on Haddad signed.")).to_be_visible()
    expect(page.locator("[data-nav='next']")).to_have_count(0)

    page.get_by_role("link", name="Agenda", exact=True).click()
    for name in ("Quintero, Rosa", "Haddad, Omar"):
        row = page.locator("#agenda li", has_text=name)
        expect(row.locator(".badge", has_text=re.compile(r"^signed$"))).to_be_visible()

    reviews = {
        review.episode.patient.last_name: review
        for review in CaseReview.objects.select_related("episode__patient", "agenda_item")
    }
    assert set(reviews) == {"Quintero", "Haddad"}
    for name, drug, dose in [("Quintero", "sertraline", "25 mg"), ("Haddad", "escitalopram", "5 mg")]:
        review = reviews[name]
        assert review.is_signed
        assert review.consultant.username == "drchen"
        assert review.agenda_item.agenda_id == session.pk
        assert review.diagnoses == ["F33.1"]
        assert list(review.recommendations.values_list("kind", "drug", "dose", "status")) == [
            ("start_medication", drug, dose, "pending")
        ]


def test_an_icd10_typo_keeps_the_note_as_typed_with_the_error_beside_the_codes(page, session):
    """The issue's example: "F33.1, nonsense" and Save draft emptied Assessment, Reasoning and Minutes."""
    first = session.items.order_by("position").first()
    log_in(page, "drchen", PASSWORD)
    page.goto(reverse("consults:workspace", args=[session.pk, first.pk]))
    page.get_by_label("Assessment", exact=True).fill("Moderate MDD, typed once.")
    page.get_by_label("Diagnostic impression (ICD-10)").fill("F33.1, nonsense")
    page.get_by_label("Reasoning").fill("Start an SSRI.")
    page.get_by_label("Minutes discussed").fill("15")
    page.get_by_role("button", name="Save draft").click()

    codes = page.get_by_label("Diagnostic impression (ICD-10)")
    error = "'nonsense' is not an ICD-10 code such as F33.1 or F41.1."
    expect(page.locator("#error_1_id_diagnoses")).to_have_text(error)
    expect(codes).to_have_value("F33.1, nonsense")
    expect(page.get_by_label("Assessment", exact=True)).to_have_value("Moderate MDD, typed once.")
    expect(page.get_by_label("Reasoning")).to_have_value("Start an SSRI.")
    expect(page.get_by_label("Minutes discussed")).to_have_value("15")
    assert CaseReview.objects.get().assessment == ""

    codes.fill("F33.1")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    assert CaseReview.objects.get().assessment == "Moderate MDD, typed once."
