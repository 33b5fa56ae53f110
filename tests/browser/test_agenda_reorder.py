"""The care manager reorders the agenda from the keyboard and by dragging, without a reload and
without losing the questions typed meanwhile, then saves every row's question with one Save."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from consults.agenda import build_agendas
from consults.models import AgendaItem
from registry import services as registry_services
from registry.models import Flag
from tests.browser.conftest import log_in
from tests.factories import PASSWORD, ClinicFactory, EpisodeFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def agenda():
    clinic = ClinicFactory(code="north", name="North Clinic")
    maria = UserFactory(username="maria", clinics=[clinic])
    for name in ("Abbott", "Baker", "Carver"):
        episode = EpisodeFactory(
            patient__clinic=clinic,
            patient__care_manager=maria,
            patient__last_name=name,
            enrolled_on=timezone.localdate() - datetime.timedelta(days=10),
        )
        registry_services.raise_flag(episode=episode, kind=Flag.Kind.NEW_PATIENT, reason="A rule holds.")
    (agenda,) = build_agendas(clinic, timezone.localdate())
    return agenda


def order(agenda) -> list[str]:
    items = AgendaItem.objects.filter(agenda=agenda, removed_at__isnull=True).order_by("position", "pk")
    return [item.episode.patient.last_name for item in items]


def rows(page):
    return page.locator("#agenda li[data-item] a.fw-semibold")


def test_reordering_by_keyboard_and_drag_keeps_the_page_and_the_typed_questions(page, agenda):
    log_in(page, "maria", PASSWORD)
    page.goto(f"/reviews/{agenda.pk}/")
    page.evaluate("window.notReloaded = true")
    page.get_by_label("Question for the consultant about Baker").fill("Lithium level?")
    page.get_by_label("Question for the consultant about Carver").fill("Switch to sertraline?")

    page.get_by_role("button", name="Move to top: Carver").focus()
    page.keyboard.press("Enter")

    expect(page.locator("#agenda")).to_have_attribute("data-saved", "1")
    expect(rows(page)).to_contain_text(["Carver", "Abbott", "Baker"])
    assert order(agenda) == ["Carver", "Abbott", "Baker"]
    expect(page.locator("#reorder-status")).to_contain_text("is now number 1; the order is saved")
    expect(page.get_by_role("button", name="Move Carver down")).to_be_focused()  # the focus stays on the row
    page.get_by_role("button", name="Move Baker up").click()
    expect(page.locator("#agenda")).to_have_attribute("data-saved", "2")
    assert order(agenda) == ["Carver", "Baker", "Abbott"]

    abbott = agenda.items.get(episode__patient__last_name="Abbott")
    page.locator(f"#item-{abbott.pk} .agenda-handle").drag_to(
        page.locator("#agenda li[data-item]").first, target_position={"x": 5, "y": 2}
    )

    expect(page.locator("#agenda")).to_have_attribute("data-saved", "3")
    assert order(agenda) == ["Abbott", "Carver", "Baker"]
    assert page.evaluate("window.notReloaded") is True
    expect(page.get_by_label("Question for the consultant about Baker")).to_have_value("Lithium level?")

    page.get_by_role("button", name="Save questions").click()

    expect(page.get_by_text("2 questions saved.")).to_be_visible()
    notes = dict(agenda.items.values_list("episode__patient__last_name", "note"))
    assert notes == {"Abbott": "", "Baker": "Lithium level?", "Carver": "Switch to sertraline?"}
