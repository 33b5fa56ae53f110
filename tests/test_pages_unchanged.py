"""Golden pages: the HTML of the main pages, on a fixed demo registry at a fixed moment, byte for
byte as in tests/data/pages/, so that a change meant to make a page faster cannot change what it
shows unnoticed (docs/testing.md#golden-pages).

Run with UPDATE_GOLDEN_PAGES=1 to write the files again after a change meant to show something
else; the diff of tests/data/pages/ is then the change to review.
"""

import datetime
import difflib
import os
import re
import zoneinfo
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection, models
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from consults.models import AgendaItem
from patients.models import Patient
from registry.demo import seed_demo
from registry.models import Flag

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("registry:dashboard")
OPEN = ("active", "relapse_prevention")
PAGES = Path(__file__).parent / "data" / "pages"
UPDATE = os.environ.get("UPDATE_GOLDEN_PAGES") == "1"

# A Wednesday afternoon at the demo clinics (America/Los_Angeles): the same "today" everywhere.
NOW = datetime.datetime(2026, 6, 17, 14, 30, tzinfo=zoneinfo.ZoneInfo("America/Los_Angeles"))
PATIENTS, SEED = 60, 7
FIRST_ID = 1000  # every table's next id, so the ids in links are the same on every run and database

# What may differ, and only that:
# - a secret or one-time value drawn afresh for every response (CSRF token, the contact form's
#   submission id);
# - the ids of flags and of review agendas and their items. Every other row's id is the same on
#   every run and both databases (restart_ids), but these rows are written by set-based
#   statements (the flag rules' INSERT ... SELECT, the agenda builder) whose insertion order
#   the database chooses, so SQLite and PostgreSQL number them differently. The page still
#   names what they point at (the flag's kind and reason, the agenda's care manager).
VARYING = [
    (re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+"'), r'\1CSRF"'),
    (re.compile(r'(name="submission" value=")[0-9a-f-]{36}"'), r'\1SUBMISSION"'),
    (re.compile(r"/flags/\d+/"), "/flags/ID/"),
    (re.compile(r'(name="flag" value=")\d+"'), r'\1ID"'),
    (re.compile(r"/reviews/\d+/items/\d+/"), "/reviews/ID/items/ID/"),
    (re.compile(r"/reviews/\d+/"), "/reviews/ID/"),
]


def normalised(html: str) -> str:
    for pattern, replacement in VARYING:
        html = pattern.sub(replacement, html)
    return html


def restart_ids() -> None:
    """Every table's ids from FIRST_ID: sequences are not rolled back with a test, so without
    this the ids would depend on the tests that ran before (and differ between databases)."""
    keys = {
        (model._meta.db_table, model._meta.pk.column)
        for model in apps.get_models(include_auto_created=True)
        if isinstance(model._meta.pk, models.AutoField) and model._meta.managed
    }
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table, key in sorted(keys):
            cursor.execute(f"SELECT COUNT(*) FROM {quote(table)} WHERE {quote(key)} >= %s", [FIRST_ID])
            assert cursor.fetchone()[0] == 0, f"{table} has ids from {FIRST_ID} on already"
            if connection.vendor == "postgresql":
                cursor.execute("SELECT setval(pg_get_serial_sequence(%s, %s), %s, false)", [table, key, FIRST_ID])
            else:
                cursor.execute("DELETE FROM sqlite_sequence WHERE name = %s", [table])
                cursor.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, FIRST_ID - 1])


@pytest.fixture
def fixed_clock(monkeypatch):
    """timezone.now (and so localdate, clinic_today, auto_now fields) at NOW."""
    monkeypatch.setattr(timezone, "now", lambda: NOW.astimezone(datetime.UTC))
    return NOW


@pytest.fixture
def demo(fixed_clock):
    restart_ids()
    seed_demo(patients=PATIENTS, seed=SEED, today=NOW.date())


def difference(name: str, response) -> str:
    """'' when the page is as its golden file; else a short unified diff naming it. With
    UPDATE_GOLDEN_PAGES=1 the page becomes its golden file."""
    page = normalised(response.content.decode())
    golden = PAGES / f"{name}.html"
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(page.encode())
        return ""
    expected = golden.read_bytes().decode() if golden.exists() else ""
    if page == expected:
        return ""
    diff = difflib.unified_diff(
        expected.splitlines(), page.splitlines(), f"{golden.name} (golden)", f"{golden.name} (now)", n=1, lineterm=""
    )
    return f"The page {name!r} changed:\n" + "\n".join(list(diff)[:30])


def logged_in(client, username: str):
    client.force_login(User.objects.get(username=username))
    return client


def the_patient() -> Patient:
    """Maria's first patient with an open safety flag, several contacts, scores and a treatment plan."""
    candidates = Patient.objects.filter(
        care_manager__username="maria",
        episodes__flags__kind=Flag.Kind.SAFETY,
        episodes__flags__resolved_at__isnull=True,
        episodes__treatment_plan__isnull=False,
    ).order_by("pk")
    return next(p for p in candidates if p.episodes.get(status__in=OPEN).contacts.count() >= 3)


def test_the_main_pages_are_unchanged_on_a_fixed_registry(demo):
    patient = the_patient()
    contact_form = reverse("registry:record_contact", args=[patient.pk])
    item = AgendaItem.objects.filter(
        agenda__consultant__username="drchen", agenda__care_manager__username="maria", removed_at__isnull=True
    ).order_by("-agenda__week_of", "position")[0]
    as_maria, as_dana, as_drchen = (Client(), Client(), Client())
    logged_in(as_maria, "maria")
    logged_in(as_dana, "dana")
    logged_in(as_drchen, "drchen")
    pages = {
        "dashboard-care-manager": lambda: as_maria.get(DASHBOARD),
        "dashboard-care-manager-by-phq9": lambda: as_maria.get(DASHBOARD, {"sort": "-phq9_latest"}),
        "dashboard-clinic-admin": lambda: as_dana.get(DASHBOARD, {"team": "all"}),
        "today": lambda: as_maria.get(reverse("registry:today")),
        "patient": lambda: as_maria.get(reverse("patients:detail", args=[patient.pk])),
        "contact-form": lambda: as_maria.get(contact_form),
        "contact-form-refused": lambda: as_maria.post(contact_form, {"kind": "follow_up", "minutes": "-5"}),
        "review": lambda: as_drchen.get(reverse("consults:workspace", args=[item.agenda_id, item.pk])),
        "recommendations-care-manager": lambda: as_maria.get(reverse("consults:recommendations"), {"status": "all"}),
        "recommendations-consultant": lambda: as_drchen.get(reverse("consults:recommendations")),
        "outcomes": lambda: as_dana.get(reverse("registry:outcomes")),
    }

    responses = {name: get() for name, get in pages.items()}

    refused = {"contact-form-refused": 400}  # drawn again with what was typed, errors beside the fields
    assert {name: r.status_code for name, r in responses.items() if r.status_code != 200} == refused
    assert responses["contact-form-refused"].context["form"].errors  # drawn again, nothing saved
    changed = "\n\n".join(filter(None, (difference(name, response) for name, response in responses.items())))
    if changed:
        pytest.fail(f"{changed}\n\n(UPDATE_GOLDEN_PAGES=1 writes the pages as they are now)", pytrace=False)
