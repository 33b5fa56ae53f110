"""A patient opens the e-mailed link on a phone, confirms their birth date and answers
(docs/user-guide.md#patient-self-report)."""

import datetime

import pytest
from django.utils import timezone

from patients.models import Episode
from registry.models import Flag, Measurement
from selfreport import services
from tests.factories import EpisodeFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_patient_fills_the_phq9_on_a_phone_and_sees_crisis_resources(phone, clinic):
    care_manager = UserFactory(username="cm-phone", clinics=[clinic])
    episode = EpisodeFactory(
        patient__clinic=clinic,
        patient__care_manager=care_manager,
        patient__birth_date=datetime.date(1975, 3, 9),
        status=Episode.Status.ACTIVE,
        enrolled_on=timezone.localdate() - datetime.timedelta(days=30),
    )
    _, token = services.send_invitation(
        episode=episode, instruments=["PHQ9"], language="en", email="p@example.org", by=care_manager
    )

    phone.goto(f"/r/{token}/")
    phone.get_by_label("Date of birth").fill("1975-03-09")
    phone.get_by_role("button", name="Continue").click()
    phone.wait_for_url(f"**/r/{token}/questions/")
    answers = [1, 2, 1, 1, 0, 1, 0, 0, 1]  # 7, item 9 answered 1
    for number, value in enumerate(answers, start=1):
        phone.locator(f"input[name='phq9-item_{number}'][value='{value}']").check()
    page_width = phone.evaluate("document.documentElement.scrollWidth")
    phone.get_by_role("button", name="Send my answers").click()
    phone.wait_for_url(f"**/r/{token}/done/")

    assert page_width <= PHONE["width"]  # no sideways scrolling on a phone
    assert "988" in phone.locator("[data-crisis]").inner_text()
    measurement = Measurement.objects.get(episode=episode)
    assert (measurement.total, measurement.item_9, measurement.source) == (7, 1, "self_report")
    assert Flag.objects.filter(episode=episode, kind="safety", resolved_at__isnull=True).exists()
