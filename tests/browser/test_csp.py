"""The Content Security Policy in Chromium: the busiest pages load with no violation (no inline
script or style anywhere), and markup typed into a name never runs."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from patients.models import Episode
from tests.browser.conftest import log_in
from tests.factories import (
    PASSWORD,
    ClinicFactory,
    EpisodeFactory,
    PatientFactory,
    UserFactory,
    record_contact,
    record_score,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def caseload():
    """A care manager with a patient whose name is markup, scores for the charts and a contact."""
    clinic = ClinicFactory(code="north", name="North Clinic")
    maria = UserFactory(username="maria", clinics=[clinic])
    today = timezone.localdate()
    patient = PatientFactory(clinic=clinic, care_manager=maria, first_name="<script>alert(1)</script>")
    episode = EpisodeFactory(
        patient=patient, enrolled_on=today - datetime.timedelta(days=70), status=Episode.Status.ACTIVE
    )
    for days, total in [(70, 18), (40, 12), (10, 7)]:
        record_contact(episode, today - datetime.timedelta(days=days), maria)
        record_score(episode, "PHQ9", total, today - datetime.timedelta(days=days), maria)
        record_score(episode, "GAD7", total - 4, today - datetime.timedelta(days=days), maria)
    return patient


def test_dashboard_patient_page_and_outcomes_report_load_with_no_policy_violation(page, caseload):
    violations, dialogs = [], []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(page, "maria", PASSWORD)

    for path in [
        reverse("registry:dashboard"),
        reverse("patients:detail", args=[caseload.pk]),
        reverse("registry:record_contact", args=[caseload.pk]),
        reverse("registry:outcomes"),
    ]:
        response = page.goto(path)
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("load")

    assert violations == []
    assert dialogs == []  # the name's <script> was shown as text, never run
    page.goto(reverse("patients:detail", args=[caseload.pk]))
    assert page.locator("figure.trajectory svg").first.is_visible()  # the SVG charts drew
    assert "<script>alert(1)</script>" in page.locator("h1").inner_text()
