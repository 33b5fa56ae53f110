"""The caseload rows tag draws what the template loop it replaced drew, byte for byte."""

import datetime
from pathlib import Path

import pytest
from django.template import Context, Template
from django.utils import timezone

from patients.models import Episode
from registry.caseload import caseload_rows
from registry.dashboard_forms import COLUMNS
from registry.models import Flag
from registry.safety import attach_safety_facts
from tests.factories import EpisodeFactory, PatientFactory, record_contact, record_score

pytestmark = pytest.mark.django_db

# The dashboard's row loop as it was before the tag (templates/registry/dashboard.html at e943950).
TEMPLATE_LOOP = (Path(__file__).parent / "data" / "caseload_rows_loop.html").read_text()
TAG = "{% load caseload_tags %}\n  {% caseload_rows page show today %}\n"
KEYS = [key for key, _ in COLUMNS]


@pytest.fixture
def rows(clinic, care_manager):
    """Rows with most kinds of value: markup in names, no contacts, overdue, a safety flag awaiting review."""
    today = timezone.localdate()
    odd = EpisodeFactory(
        patient=PatientFactory(clinic=clinic, care_manager=None, last_name="O'Brien & <Sons>", first_name='"Jo"')
    )
    soon = EpisodeFactory(patient=PatientFactory(clinic=clinic, care_manager=care_manager))
    record_contact(soon, today, care_manager, minutes=45, next_contact_on=today + datetime.timedelta(days=7))
    busy = EpisodeFactory(patient=PatientFactory(clinic=clinic, care_manager=care_manager))
    record_contact(busy, today - datetime.timedelta(days=40), care_manager, kind="initial_assessment", minutes=30)
    record_contact(busy, today - datetime.timedelta(days=30), care_manager, minutes=20)  # due 16 days ago
    record_score(busy, "PHQ9", 18, today - datetime.timedelta(days=40), care_manager)
    record_score(busy, "PHQ9", 12, today - datetime.timedelta(days=30), care_manager, item9=1)
    record_score(busy, "GAD7", 9, today - datetime.timedelta(days=30), care_manager)
    Flag.objects.create(episode=odd, kind=Flag.Kind.NOT_IMPROVING, reason="test", raised_at=timezone.now())
    assert Flag.objects.filter(episode=busy, kind=Flag.Kind.SAFETY, resolved_at__isnull=True).exists()
    page = list(caseload_rows(Episode.objects.open(), today, "flags"))
    attach_safety_facts(page, today)
    return page


@pytest.mark.parametrize(
    "shown",
    [KEYS, KEYS[::2], KEYS[1::2], []],
    ids=["every column", "every other column", "the others", "no optional column"],
)
def test_caseload_rows_tag_draws_what_the_template_loop_drew(rows, shown):
    context = {"page": rows, "show": {key: key in shown for key in KEYS}, "today": timezone.localdate()}

    drawn = Template(TAG).render(Context(context))

    assert drawn == Template(TEMPLATE_LOOP).render(Context(context))
    assert "O&#x27;Brien &amp; &lt;Sons&gt;" in drawn
    assert ("data-safety-facts" in drawn) == ("flags" in shown)
    assert ("overdue" in drawn) == ("next_due" in shown)


def test_an_empty_page_says_no_episodes_match():
    context = {"page": [], "show": {key: True for key in KEYS}, "today": timezone.localdate()}

    drawn = Template(TAG).render(Context(context))

    assert drawn == Template(TEMPLATE_LOOP).render(Context(context))
    assert "No open episodes match." in drawn
