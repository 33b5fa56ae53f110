"""The caseload and the patient page in Chromium: a table a person can work in at 1,400 px,
cards and folded sections on a phone with no sideways scroll, a readable chart, and the key
flows done with the keyboard alone."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from care import services as care_services
from consults import notes
from patients import plans
from patients.models import Episode
from registry.models import CaseloadPreferences
from tests.browser.sessions import log_in_as, tab_to
from tests.factories import ClinicFactory, EpisodeFactory, UserFactory, record_contact, record_score

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
LONG_NAME = "Wolfeschlegelsteinhausenbergerdorff-Featherstonehaugh"


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


@pytest.fixture
def clinic_team():
    clinic = ClinicFactory(code="north", name="North Clinic")
    maria = UserFactory(username="maria", first_name="Maria", last_name="Lopez", clinics=[clinic])
    pcp = UserFactory(username="drwells", role=Role.MEDICAL_PROVIDER, fte=None, clinics=[clinic])
    consultant = UserFactory(username="drchen", role=Role.PSYCHIATRIC_CONSULTANT, fte=None, clinics=[clinic])
    return clinic, maria, pcp, consultant


def treated_patient(clinic, maria, pcp, *, last_name, first_name, mrn, phone="555-0100", item9=0, history=True):
    episode = EpisodeFactory(
        patient__clinic=clinic,
        patient__care_manager=maria,
        patient__pcp=pcp,
        patient__last_name=last_name,
        patient__first_name=first_name,
        patient__mrn=mrn,
        patient__phone=phone,
        enrolled_on=days_ago(80),
        status=Episode.Status.ACTIVE,
    )
    for days, total in [(75, 19), (45, 15), (20, 12)] if history else [(75, 19)]:
        record_contact(episode, days_ago(days), maria, kind="initial_assessment" if days == 75 else "follow_up")
        record_score(episode, "PHQ9", total, days_ago(days), maria, item9=item9 if days == 45 else 0)
        record_score(episode, "GAD7", total - 5, days_ago(days), maria)
    return episode


@pytest.fixture
def caseload(clinic_team):
    """Thirty patients, one with a very long name, a medication, a plan change and an item 9 answer."""
    clinic, maria, pcp, _ = clinic_team
    main = treated_patient(clinic, maria, pcp, last_name=LONG_NAME, first_name="Hoa", mrn="N123456", item9=1)
    care_services.add_medication(episode=main, by=maria, name="sertraline", dose="50 mg", started_on=days_ago(44))
    plans.record_plan_change(
        episode=main, by=maria, changed_on=days_ago(30), reason="Not improving.", what_changed="Weekly calls."
    )
    for n in range(29):
        treated_patient(
            clinic, maria, pcp, last_name=f"Patient{n:02d}", first_name="Test", mrn=f"N9{n:05d}", history=False
        )
    return main


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_caseload_and_patient_page_have_no_sideways_scroll_on_a_phone(phone, live_server, clinic_team, caseload):
    _, maria, _, _ = clinic_team
    log_in_as(phone, live_server, maria)

    phone.goto(reverse("registry:dashboard"))
    row = phone.locator(f"#caseload tr[data-episode='{caseload.pk}']")
    caseload_fits = no_sideways_scroll(phone)
    row_display = row.evaluate("el => getComputedStyle(el).display")
    label = row.locator("td.next-due").evaluate("el => getComputedStyle(el, '::before').content")
    row_fits = row.evaluate("el => el.getBoundingClientRect().right <= window.innerWidth")

    phone.goto(reverse("patients:detail", args=[caseload.patient.pk]))
    patient_fits = no_sideways_scroll(phone)
    timeline_open = phone.locator("details:has(#timeline-h)").evaluate("el => el.open")
    heading_fits = phone.get_by_role("heading", level=1).evaluate(
        "el => el.getBoundingClientRect().right <= window.innerWidth"
    )
    phone.locator("summary:has(#timeline-h)").click()

    assert caseload_fits, "the caseload scrolls sideways at 390 px"
    assert row_display == "block"  # a card, not a table row
    assert label == '"Next due"'  # each value with its heading
    assert row_fits
    assert patient_fits, "the patient page scrolls sideways at 390 px"
    assert heading_fits  # the long name wraps
    assert timeline_open is False  # folded on a phone, opened with a tap
    expect(phone.locator(".timeline")).to_be_visible()
    assert no_sideways_scroll(phone)


def test_the_caseload_header_and_patient_column_stay_in_view_when_scrolled(page, live_server, clinic_team, caseload):
    _, maria, _, _ = clinic_team
    log_in_as(page, live_server, maria)
    page.goto(reverse("registry:dashboard"))
    box = page.locator(".caseload-scroll")
    name_cell = page.locator(f"#caseload tr[data-episode='{caseload.pk}'] th.patient-col")
    header = page.locator("#caseload thead th.patient-col")
    before = box.bounding_box()

    box.evaluate("el => { el.scrollLeft = el.scrollWidth; el.scrollTop = 400; }")

    assert box.evaluate("el => el.scrollLeft") > 0  # there was something to scroll to
    assert abs(name_cell.bounding_box()["x"] - before["x"]) < 3  # the names stay at the left edge
    assert abs(header.bounding_box()["y"] - before["y"]) < 3  # the header row stays on top
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")


def test_compact_rows_and_fewer_columns_fit_more_of_the_caseload(page, live_server, clinic_team, caseload):
    _, maria, _, _ = clinic_team
    log_in_as(page, live_server, maria)
    page.goto(reverse("registry:dashboard"))
    wide = page.locator("#caseload").bounding_box()
    row_height = page.locator(f"#caseload tr[data-episode='{caseload.pk}']").bounding_box()["height"]

    page.get_by_text("Columns and density").click()
    for column in ["Enrolled", "Initial assessment", "GAD-7 first", "GAD-7 %", "Last review", "Open recs"]:
        page.get_by_label(column, exact=True).uncheck()
    page.get_by_label("Compact rows (more patients on the screen)").check()
    page.get_by_role("button", name="Save my columns").click()

    expect(page.get_by_text("Your caseload columns are saved.")).to_be_visible()
    narrow = page.locator("#caseload").bounding_box()
    compact_height = page.locator(f"#caseload tr[data-episode='{caseload.pk}']").bounding_box()["height"]
    assert narrow["width"] <= 1400 < wide["width"]  # it fits the screen now
    assert compact_height < row_height
    assert CaseloadPreferences.objects.get(user=maria).compact


def test_chart_labels_are_at_least_12_px_wide_screen_and_phone(page, phone, live_server, clinic_team, caseload):
    _, maria, _, _ = clinic_team
    url = reverse("patients:detail", args=[caseload.patient.pk])
    smallest = """() => Math.min(...[...document.querySelectorAll('figure.trajectory svg')].flatMap(svg => {
        const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
        return [...svg.querySelectorAll('text')].map(t => parseFloat(t.getAttribute('font-size')) * scale);
    }))"""
    sizes = {}
    for name, browser_page in (("wide", page), ("phone", phone)):
        log_in_as(browser_page, live_server, maria)
        browser_page.goto(url)
        sizes[name] = browser_page.evaluate(smallest)
    markers = page.locator("figure[data-chart='PHQ9']")

    assert sizes["wide"] >= 12 and sizes["phone"] >= 12, sizes
    assert markers.locator("[data-marker='medication']").count() == 1
    assert markers.locator("[data-marker='plan']").count() == 1
    assert markers.locator("circle.item9").count() == 1
    assert "item 9 answered 1" in markers.locator("desc").text_content()
    assert "started sertraline 50 mg" in markers.locator("desc").text_content()


# --- Keyboard only ----------------------------------------------------------------------


def test_search_and_clear_with_the_keyboard_alone(page, live_server, clinic_team, caseload):
    _, maria, _, _ = clinic_team
    log_in_as(page, live_server, maria)
    page.goto(reverse("registry:dashboard"))

    tab_to(page, "#id_q")
    page.keyboard.type(f"{LONG_NAME}, Hoa")
    page.keyboard.press("Enter")
    expect(page.locator("[data-active-search]")).to_contain_text(f"{LONG_NAME}, Hoa")
    rows = page.locator("#caseload tbody tr[data-episode]")
    expect(rows).to_have_count(1)
    tab_to(page, "[data-active-search] button")
    page.keyboard.press("Enter")

    expect(page.locator("[data-active-search]")).to_have_count(0)
    expect(rows).to_have_count(30)


def test_choose_columns_with_the_keyboard_alone(page, live_server, clinic_team, caseload):
    _, maria, _, _ = clinic_team
    log_in_as(page, live_server, maria)
    page.goto(reverse("registry:dashboard"))

    tab_to(page, ".columns-settings > summary")
    page.keyboard.press("Enter")
    tab_to(page, "input[name='shown'][value='mrn']")
    page.keyboard.press("Space")
    tab_to(page, ".columns-form button[type='submit']")
    page.keyboard.press("Enter")

    expect(page.get_by_text("Your caseload columns are saved.")).to_be_visible()
    expect(page.locator("#caseload td.mrn")).to_have_count(0)
    assert CaseloadPreferences.objects.get(user=maria).hidden_columns == ["mrn"]


def test_pcp_answers_from_his_home_with_the_keyboard_alone(page, live_server, clinic_team, caseload):
    _, maria, pcp, consultant = clinic_team
    note = notes.start_note(episode=caseload, consultant=consultant, by=consultant)
    notes.save_draft(review=note, by=consultant, reviewed_on=days_ago(2), assessment="MDD.", diagnoses=[], summary="")
    recommendation = notes.add_recommendation(
        review=note, by=consultant, kind="start_medication", drug="sertraline", dose="100 mg"
    )
    notes.sign(review=note, by=consultant)
    notes.communicate(recommendation=recommendation, by=maria, when=timezone.now(), how="ehr_message")
    log_in_as(page, live_server, pcp)
    page.goto("/")

    expect(page.get_by_role("heading", level=1)).to_have_text("Recommendations waiting for your answer")
    radios = page.locator(f"input[name='response'][id^='response-{recommendation.pk}-']")
    assert [r.is_checked() for r in radios.all()] == [False, False, False]  # nothing chosen beforehand
    tab_to(page, f"#response-{recommendation.pk}-accepted")
    page.keyboard.press("ArrowRight")  # moves the choice to "Accepted with changes"
    tab_to(page, f"#note-{recommendation.pk}")
    page.keyboard.type("Start at 50 mg for a week.")
    tab_to(page, f"[data-recommendation='{recommendation.pk}'] button[type='submit']")
    page.keyboard.press("Enter")

    expect(page.locator("[data-nothing-awaiting]")).to_be_visible()
    recommendation.refresh_from_db()
    assert (recommendation.status, recommendation.response_note, recommendation.responded_by) == (
        "modified",
        "Start at 50 mg for a week.",
        pcp,
    )


def test_fold_and_unfold_a_patient_page_section_with_the_keyboard(page, live_server, clinic_team, caseload):
    _, maria, _, _ = clinic_team
    log_in_as(page, live_server, maria)
    page.goto(reverse("patients:detail", args=[caseload.patient.pk]))
    section = page.locator("details:has(#timeline-h)")

    tab_to(page, "summary:has(#timeline-h)")
    page.keyboard.press("Enter")
    folded = section.evaluate("el => el.open")
    page.keyboard.press("Enter")

    assert folded is False
    assert section.evaluate("el => el.open") is True
