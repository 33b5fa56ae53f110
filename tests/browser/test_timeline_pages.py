"""The patient page's timeline, a page at a time (docs/user-guide.md#the-timeline), in Chromium:
the link to older entries is a real link a keyboard user follows, the older page opens unfolded
on a phone, and neither page has a WCAG 2.1 AA violation."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.sessions import log_in_as, tab_to
from tests.browser.test_accessibility import axe_violations
from tests.factories import ClinicFactory, EpisodeFactory, UserFactory, record_contact

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_keyboard_user_pages_back_through_a_long_timeline_on_a_phone(browser, live_server):
    clinic = ClinicFactory(code="north", name="North Clinic")
    maria = UserFactory(username="maria", first_name="Maria", last_name="Lopez", clinics=[clinic])
    today = timezone.localdate()
    episode = EpisodeFactory(
        patient__clinic=clinic, patient__care_manager=maria, enrolled_on=today - datetime.timedelta(60)
    )
    for days_ago in range(25, 0, -1):
        record_contact(episode, today - datetime.timedelta(days_ago), maria, minutes=10)
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, is_mobile=True, bypass_csp=True
    )
    page = context.new_page()
    log_in_as(page, live_server, maria)
    page.goto(reverse("patients:detail", args=[episode.patient.pk]))
    first_violations = axe_violations(page)
    page.locator("summary:has(#timeline-h)").click()  # folded on a phone: the user opens it

    tab_to(page, "a[href^='?timeline=']")
    page.keyboard.press("Enter")

    page.wait_for_url("**?timeline=2#timeline-h")
    timeline = page.locator("details:has(#timeline-h)")
    expect(timeline).to_have_attribute("open", "")
    expect(timeline.locator("tbody tr")).to_have_count(5)
    expect(timeline).to_contain_text("Entries 21 to 25 of 25, newest first.")
    expect(timeline.get_by_role("link", name="Show newer entries")).to_be_visible()
    assert first_violations == axe_violations(page) == []
    context.close()
