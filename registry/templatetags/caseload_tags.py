"""The caseload table's rows, drawn in Python rather than by template nodes.

The dashboard draws 50 rows of up to 20 cells; as template nodes that was about a third of the
page's CPU (docs/benchmarks.md#dashboard). The HTML is byte for byte what the template loop it
replaced drew (registry/tests/test_caseload_tags.py compares the two on the same rows).
"""

import datetime
from collections.abc import Callable

from django import template
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from carereg.lib.crispy_fast import option_html, widget_html
from patients.models import Episode
from registry.templatetags.billing_tags import minutes_progress
from registry.templatetags.registry_tags import flag_badges, safety_facts, signed_percent, weeks_since

register = template.Library()

STATUS_LABELS = dict(Episode.Status.choices)
NO_ROWS = '\n    <tr><td colspan="20" class="text-center text-muted py-4">No open episodes match.</td></tr>\n  '
# The indentation the template's lines had, kept so the page's bytes stay the same.
NEXT_CELL = "\n      "


def _or_blank(value) -> str:
    """As {{ value|default_if_none:"" }}."""
    return "" if value is None else str(value)


DASH = "\N{EN DASH}"  # an empty date


def _iso_or_dash(day: datetime.date | None) -> str:
    """As {{ day.isoformat|default:DASH }}."""
    return DASH if day is None else day.isoformat()


def _next_due(due: datetime.date | None, today: datetime.date) -> str:
    if not due:
        return DASH
    if due < today:
        return f'<span class="text-danger fw-bold overdue">{due} <span class="visually-hidden">overdue</span>⚠</span>'
    return due.isoformat()


def _flags(row, today: datetime.date) -> str:
    return f'<td class="flags" data-label="Flags">{flag_badges(row.open_flags)}{safety_facts(row, compact=True)}</td>'


# Each optional column's cell (keys as in registry/dashboard_forms.py COLUMNS), in the order of
# the table's header.
CELLS: dict[str, Callable[..., str]] = {
    "flags": _flags,
    "mrn": lambda row, today: f'<td class="mrn" data-label="MRN">{escape(row.patient.mrn)}</td>',
    "status": lambda row, today: (
        f'<td class="status" data-label="Status">{escape(STATUS_LABELS.get(row.status, row.status))}</td>'
    ),
    "enrolled": lambda row, today: f'<td data-label="Enrolled">{row.enrolled_on.isoformat()}</td>',
    "initial_assessment": lambda row, today: (
        f'<td data-label="Initial assessment">{row.initial_assessment.isoformat()}</td>'
    ),
    "last_contact": lambda row, today: f'<td data-label="Last contact">{_iso_or_dash(row.last_contact_on)}</td>',
    "contacts": lambda row, today: f'<td class="text-end" data-label="Contacts">{row.completed_contacts}</td>',
    "weeks": lambda row, today: (
        f'<td class="text-end" data-label="Weeks">{weeks_since(row.initial_assessment, today)}</td>'
    ),
    "next_due": lambda row, today: (
        f'<td class="next-due" data-label="Next due">{_next_due(row.next_contact_due, today)}</td>'
    ),
    "phq9_baseline": lambda row, today: (
        f'<td class="text-end phq9-baseline" data-label="PHQ-9 first">{_or_blank(row.phq9_baseline)}</td>'
    ),
    "phq9_latest": lambda row, today: (
        f'<td class="text-end phq9-latest" data-label="PHQ-9 last">{_or_blank(row.phq9_latest)}</td>'
    ),
    "phq9_change": lambda row, today: (
        f'<td class="text-end phq9-change" data-label="PHQ-9 %">{signed_percent(row.phq9_change)}</td>'
    ),
    "gad7_baseline": lambda row, today: (
        f'<td class="text-end gad7-baseline" data-label="GAD-7 first">{_or_blank(row.gad7_baseline)}</td>'
    ),
    "gad7_latest": lambda row, today: (
        f'<td class="text-end gad7-latest" data-label="GAD-7 last">{_or_blank(row.gad7_latest)}</td>'
    ),
    "gad7_change": lambda row, today: (
        f'<td class="text-end gad7-change" data-label="GAD-7 %">{signed_percent(row.gad7_change)}</td>'
    ),
    "minutes": lambda row, today: (
        f'<td class="text-end minutes" data-label="Min this month">{minutes_progress(row, today)}</td>'
    ),
    "last_review": lambda row, today: (
        f'<td class="last-review" data-label="Last review">{_iso_or_dash(row.last_case_review_on)}</td>'
    ),
    "open_recs": lambda row, today: (
        f'<td class="text-end open-recs" data-label="Open recs">{row.open_recommendations or ""}</td>'
    ),
    "care_manager": lambda row, today: (
        f'<td class="small" data-label="Care manager">{escape(row.patient.care_manager or "Unassigned")}</td>'
    ),
}


def caseload_row(row, cells: list[Callable[..., str] | None], today: datetime.date, patient_url: str) -> str:
    """One row: the patient's name, then each shown column's cell (a hidden one leaves its blank line)."""
    patient = row.patient
    name = f"{escape(patient.last_name)}, {escape(patient.first_name)}"
    link = f"{patient_url}{row.patient_id}/"
    parts = [
        f'\n    <tr data-episode="{row.pk}">{NEXT_CELL}'
        f'<th scope="row" class="name patient-col"><a href="{link}">{name}</a></th>'
    ]
    parts.extend(cell(row, today) if cell else "" for cell in cells)
    return NEXT_CELL.join(parts) + "\n    </tr>\n  "


@register.simple_tag
def caseload_rows(page, show: dict[str, bool], today: datetime.date) -> SafeString:
    """The table body's rows of this page, or the one row saying none match."""
    rows = list(page)
    if not rows:
        return mark_safe(NO_ROWS)
    cells = [cell if show.get(key) else None for key, cell in CELLS.items()]
    patient_url = reverse("patients:detail", args=[0]).removesuffix("0/")  # + the patient's id and "/"
    return mark_safe("".join(caseload_row(row, cells, today, patient_url) for row in rows))


# The dashboard's filter and column forms draw about thirty widgets: through Django's widget
# templates that was a sixth of the page's template time. These write the same bytes
# (carereg/tests/test_crispy_fast.py compares them with Django's).
register.filter("widget_html", widget_html)
register.filter("option_html", option_html)
