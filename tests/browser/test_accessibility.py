"""WCAG 2.1 A and AA in Chromium: axe-core scans every page each role reaches, with zero
violations. The pages are not a hand-picked few: they are every named URL of the app's
URLconfs, filled with the ids of real records (tests/test_access.py builds a clinic holding
one of each), that answers the role's GET with an HTML page.

axe-core is vendored for the tests only (tests/browser/vendor/, never served to users).
"""

from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.models import Role
from consults import notes
from tests.browser.sessions import log_in_as
from tests.factories import UserFactory
from tests.test_access import clinic_with_records, kwargs_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Not the app's own pages: the Django admin (its own markup, staff only), the FHIR API (JSON
# with a token) and the patient's self-report pages (no account: tests/browser/test_self_report_on_a_phone.py).
OUTSIDE = ("admin", "fhirapi", "selfreport:start", "selfreport:language", "selfreport:questions", "selfreport:done")
# URLs that take something other than a record's id.
MONTH_URLS = {"registry:billing", "registry:billing_csv"}


def _named_urls(resolver: URLResolver, namespace: str = "") -> list[tuple[str, URLPattern]]:
    found = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            found += _named_urls(entry, f"{namespace}{entry.namespace}:" if entry.namespace else namespace)
        elif entry.name:
            found.append((f"{namespace}{entry.name}", entry))
    return found


def _path(name: str, pattern: URLPattern, records) -> str:
    if not pattern.pattern.converters:
        return reverse(name)
    if name in MONTH_URLS:
        return reverse(name, kwargs={"month": timezone.localdate().replace(day=1)})
    return reverse(name, kwargs=kwargs_for(name, records))


def pages_of(user, records) -> list[str]:
    """Every page of the app this user opens with a GET: an HTML page answered 200."""
    client = Client()
    client.force_login(user)
    client.get("/")
    found = []
    for name, pattern in _named_urls(get_resolver()):
        if name.startswith(OUTSIDE):
            continue
        path = _path(name, pattern, records)
        response = client.get(path)
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            found.append(path)
    return found


@pytest.fixture
def team():
    """A clinic with one of every record, and a user of each role who works there."""
    records = clinic_with_records("north", "NORTH-0001", "Aurelio", "Zanetti")
    clinic = records.clinic
    pcp = UserFactory(username="north-pcp", role=Role.MEDICAL_PROVIDER, fte=None, clinics=[clinic])
    records.patient.pcp = pcp
    records.patient.save()
    notes.communicate(recommendation=records.recommendation, by=records.care_manager, when=timezone.now(), how="phone")
    return {
        "care manager": (records.care_manager, records),
        "psychiatric consultant": (records.case_review.consultant, records),
        "PCP": (pcp, records),
        "clinic admin": (
            UserFactory(username="north-admin", role=Role.CLINIC_ADMIN, fte=None, clinics=[clinic]),
            records,
        ),
    }


def axe_violations(page) -> list[str]:
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", WCAG_21_AA
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']}, {len(v['nodes'])} element(s), e.g. {v['nodes'][0]['target']}: "
        + v["nodes"][0]["failureSummary"][:300]
        for v in result["violations"]
    ]


HOMES = {
    "care manager": "registry:dashboard",
    "psychiatric consultant": "consults:agendas",
    "PCP": "consults:pcp_home",
    "clinic admin": "registry:program",
}


@pytest.mark.parametrize("role", list(HOMES))
def test_every_page_a_role_reaches_has_no_wcag_21_aa_violation(browser, live_server, team, role):
    user, records = team[role]
    paths = pages_of(user, records)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1400, "height": 1000}, bypass_csp=True)
    page = context.new_page()
    log_in_as(page, live_server, user)
    found = {}
    try:
        for path in paths:
            page.goto(path)
            violations = axe_violations(page)
            if violations:
                found[path] = violations
    finally:
        context.close()

    assert len(paths) >= 8
    assert reverse(HOMES[role]) in paths
    assert not found, "\n".join(
        f"{path}: {violation}" for path, violations in found.items() for violation in violations
    )


def test_the_phone_layouts_have_no_wcag_21_aa_violation(browser, live_server, team):
    """The caseload's cards, today's calls and the patient page's folded sections at 390 px."""
    user, records = team["care manager"]
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 390, "height": 844}, is_mobile=True, bypass_csp=True
    )
    page = context.new_page()
    log_in_as(page, live_server, user)
    found = {}
    try:
        for path in [
            reverse("registry:dashboard"),
            reverse("registry:today"),
            reverse("patients:detail", args=[records.patient.pk]),
        ]:
            page.goto(path)
            violations = axe_violations(page)
            if violations:
                found[path] = violations
    finally:
        context.close()

    assert not found, "\n".join(f"{path}: {v}" for path, violations in found.items() for v in violations)
