"""The browser-side safeguards: a Content Security Policy on every page, no inline script or
style for it to block, and markup typed into a field shown as text."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from registry.models import Contact
from tests.factories import EpisodeFactory, PatientFactory, record_contact

pytestmark = pytest.mark.django_db

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
}
MARKUP = "<script>alert(1)</script>"


def policy_of(response) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";") if part.strip())


def test_every_page_carries_the_content_security_policy(cm_client, client):
    dashboard = cm_client.get(reverse("registry:dashboard"))
    login = client.get(reverse("login"))

    assert policy_of(dashboard) == POLICY
    assert policy_of(login) == POLICY
    assert dashboard["Referrer-Policy"] == "same-origin"
    assert dashboard["X-Frame-Options"] == "DENY"


def test_templates_hold_no_inline_script_or_style_for_the_policy_to_block():
    inline = re.compile(r"""<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=["']""", re.I)
    offenders = [
        f"{path.relative_to(settings.BASE_DIR)}:{number}"
        for folder in [settings.BASE_DIR / "templates", *Path(settings.BASE_DIR).glob("*/templates")]
        for path in folder.rglob("*.html")
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if inline.search(line)
    ]

    assert offenders == []


@pytest.fixture
def marked_up_patient(clinic, care_manager):
    patient = PatientFactory(clinic=clinic, care_manager=care_manager, first_name=MARKUP, last_name=f"O'Neil {MARKUP}")
    episode = EpisodeFactory(patient=patient)
    record_contact(episode, episode.enrolled_on, care_manager, note=f'Said "{MARKUP}" & left')
    return patient


def test_markup_in_a_name_or_note_is_shown_escaped_on_the_patient_page(cm_client, marked_up_patient):
    page = cm_client.get(reverse("patients:detail", args=[marked_up_patient.pk])).content.decode()

    assert MARKUP not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Said &quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot; &amp; left" in page
    assert Contact.objects.get().note == f'Said "{MARKUP}" & left'  # stored as typed, escaped when shown


def test_markup_in_a_name_is_shown_escaped_on_the_dashboard(cm_client, marked_up_patient):
    page = cm_client.get(reverse("registry:dashboard")).content.decode()

    assert MARKUP not in page
    assert "O&#x27;Neil &lt;script&gt;alert(1)&lt;/script&gt;" in page
