"""The caseload rows tag draws what the template loop it replaced drew, byte for byte."""

import datetime

import pytest
from django.template import Context, Template
from django.utils import timezone

from patients.models import Episode
from registry.caseload import caseload_rows
from registry.dashboard_forms import COLUMNS
from registry.models import Flag
from registry.safety import attach_safety_facts
from tests.factories import EpisodeFactory, PatientFactory, UserFactory, record_contact, record_score

pytestmark = pytest.mark.django_db

# The dashboard's row loop as it was before the tag (templates/registry/dashboard.html at e943950).
TEMPLATE_LOOP = """{% load registry_tags billing_tags %}
  {% for row in page %}
    <tr data-episode="{{ row.pk }}">
      <th scope="row" class="name patient-col"><a href="{% url 'patients:detail' row.patient_id %}">{{ row.patient.last_name }}, {{ row.patient.first_name }}</a></th>
      {% if show.flags %}<td class="flags" data-label="Flags">{% flag_badges row.open_flags %}{% safety_facts row compact=True %}</td>{% endif %}
      {% if show.mrn %}<td class="mrn" data-label="MRN">{{ row.patient.mrn }}</td>{% endif %}
      {% if show.status %}<td class="status" data-label="Status">{{ row.get_status_display }}</td>{% endif %}
      {% if show.enrolled %}<td data-label="Enrolled">{{ row.enrolled_on.isoformat }}</td>{% endif %}
      {% if show.initial_assessment %}<td data-label="Initial assessment">{{ row.initial_assessment.isoformat }}</td>{% endif %}
      {% if show.last_contact %}<td data-label="Last contact">{{ row.last_contact_on.isoformat|default:"–" }}</td>{% endif %}
      {% if show.contacts %}<td class="text-end" data-label="Contacts">{{ row.completed_contacts }}</td>{% endif %}
      {% if show.weeks %}<td class="text-end" data-label="Weeks">{{ row.initial_assessment|weeks_since:today }}</td>{% endif %}
      {% if show.next_due %}<td class="next-due" data-label="Next due">{% if row.next_contact_due %}{% if row.next_contact_due < today %}<span class="text-danger fw-bold overdue">{{ row.next_contact_due.isoformat }} <span class="visually-hidden">overdue</span>⚠</span>{% else %}{{ row.next_contact_due.isoformat }}{% endif %}{% else %}–{% endif %}</td>{% endif %}
      {% if show.phq9_baseline %}<td class="text-end phq9-baseline" data-label="PHQ-9 first">{{ row.phq9_baseline|default_if_none:"" }}</td>{% endif %}
      {% if show.phq9_latest %}<td class="text-end phq9-latest" data-label="PHQ-9 last">{{ row.phq9_latest|default_if_none:"" }}</td>{% endif %}
      {% if show.phq9_change %}<td class="text-end phq9-change" data-label="PHQ-9 %">{{ row.phq9_change|signed_percent }}</td>{% endif %}
      {% if show.gad7_baseline %}<td class="text-end gad7-baseline" data-label="GAD-7 first">{{ row.gad7_baseline|default_if_none:"" }}</td>{% endif %}
      {% if show.gad7_latest %}<td class="text-end gad7-latest" data-label="GAD-7 last">{{ row.gad7_latest|default_if_none:"" }}</td>{% endif %}
      {% if show.gad7_change %}<td class="text-end gad7-change" data-label="GAD-7 %">{{ row.gad7_change|signed_percent }}</td>{% endif %}
      {% if show.minutes %}<td class="text-end minutes" data-label="Min this month">{% minutes_progress row today %}</td>{% endif %}
      {% if show.last_review %}<td class="last-review" data-label="Last review">{{ row.last_case_review_on.isoformat|default:"–" }}</td>{% endif %}
      {% if show.open_recs %}<td class="text-end open-recs" data-label="Open recs">{% if row.open_recommendations %}{{ row.open_recommendations }}{% endif %}</td>{% endif %}
      {% if show.care_manager %}<td class="small" data-label="Care manager">{{ row.patient.care_manager|default:"Unassigned" }}</td>{% endif %}
    </tr>
  {% empty %}
    <tr><td colspan="20" class="text-center text-muted py-4">No open episodes match.</td></tr>
  {% endfor %}
"""
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
