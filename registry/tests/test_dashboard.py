"""The caseload dashboard: registry columns, sorting, filters, search, statistics, and its cost."""

import datetime
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from consults import notes
from consults.figures import review_figures
from patients import services as patient_services
from patients.models import Episode, Patient
from registry import services
from registry.caseload import SORTS
from registry.models import ITEM_FIELDS, Contact, Flag, Measurement
from registry.scoring import INSTRUMENTS, score
from registry.services import Answers
from registry.summaries import refresh_summaries
from tests.factories import (
    EpisodeFactory,
    PatientFactory,
    UserFactory,
    answers_totalling,
    record_contact,
    record_score,
)

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("registry:dashboard")
DASH = "\N{EN DASH}"  # what an empty date shows


def day(offset: int) -> datetime.date:
    """today + offset days (negative: in the past)."""
    return timezone.localdate() + datetime.timedelta(days=offset)


class CaseloadTable(HTMLParser):
    """The caseload table as {episode pk: {column header: cell text}}."""

    def __init__(self, html: str):
        super().__init__()
        self.headers: list[str] = []
        self.rows: dict[int, list[str]] = {}
        self._row: list[str] | None = None
        self._text: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "data-episode" in attrs:
            self._row = self.rows.setdefault(int(attrs["data-episode"]), [])
        elif tag in ("td", "th") and (self._row is not None or tag == "th"):
            self._text = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._text is not None:
            text = " ".join("".join(self._text).split())
            if self._row is None:
                self.headers.append(text.rstrip(" ▲▼"))
            else:
                self._row.append(text)
            self._text = None
        elif tag == "tr":
            self._row = None

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)

    def row(self, pk: int) -> dict[str, str]:
        return dict(zip(self.headers, self.rows[pk], strict=True))


class Links(HTMLParser):
    """Every link and form target on a page, as (address, text)."""

    def __init__(self, html: str):
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("action"):
            self.links.append((attrs["action"], ""))
        elif tag == "a" and attrs.get("href"):
            self._href, self._text = attrs["href"], []

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.links.append((self._href, " ".join("".join(self._text).split())))
            self._href = None

    def handle_data(self, data):
        if self._href is not None:
            self._text.append(data)


def rows_of(response) -> list[Episode]:
    return list(response.context["page"].object_list)


def pks_of(response) -> list[int]:
    return [row.pk for row in rows_of(response)]


def contact(episode, offset, by, **fields):
    return record_contact(episode, day(offset), by, **fields)


# --- A hand-built caseload ---------------------------------------------------------------


@dataclass
class Caseload:
    a: Episode
    b: Episode
    c: Episode
    d: Episode
    expected: dict[int, dict]  # episode pk -> SORTS key -> the value the dashboard must show and sort by


@pytest.fixture
def caseload(clinic, care_manager) -> Caseload:
    """Four open episodes whose columns differ (only C and D share a status), in a different order per column.

    A: active, safety flag, 3 contacts, next due from the 14-day cadence (overdue).
    B: relapse prevention, needs-discussion flag, 4 contacts, next due from the 30-day cadence.
    C: enrolled (no initial assessment yet), measurement-overdue flag, next date set at its last contact.
    D: enrolled last week: nothing recorded, every optional column empty.
    Minutes this month come from outreach attempts today, which reach no one and so move no other column.
    """
    cm = care_manager

    def episode(mrn, last, first, enrolled):
        return EpisodeFactory(
            patient__clinic=clinic,
            patient__care_manager=cm,
            patient__mrn=mrn,
            patient__last_name=last,
            patient__first_name=first,
            enrolled_on=day(enrolled),
        )

    a = episode("M-003", "Young", "Ann", -95)
    contact(a, -90, cm, kind="initial_assessment")
    record_score(a, "PHQ9", 20, day(-90), cm, item9=1)
    record_score(a, "GAD7", 10, day(-90), cm)
    contact(a, -60, cm)
    contact(a, -40, cm)
    record_score(a, "PHQ9", 8, day(-40), cm)
    record_score(a, "GAD7", 10, day(-40), cm)
    contact(a, 0, cm, kind="outreach", reached=False, minutes=30)

    b = episode("M-001", "Adams", "Bea", -120)
    contact(b, -60, cm, kind="initial_assessment")
    record_score(b, "PHQ9", 12, day(-60), cm)
    record_score(b, "GAD7", 18, day(-60), cm)
    contact(b, -30, cm)
    contact(b, -20, cm)
    contact(b, -10, cm)
    record_score(b, "PHQ9", 3, day(-10), cm)
    record_score(b, "GAD7", 6, day(-10), cm)
    patient_services.change_status(episode=b, status="relapse_prevention", on=day(-10), by=cm)
    services.raise_flag(episode=b, kind=Flag.Kind.NEEDS_DISCUSSION, by=cm, reason="Ask about sleep")
    contact(b, 0, cm, kind="outreach", reached=False, minutes=10)

    c = episode("M-004", "Moore", "Cal", -30)
    record_score(c, "PHQ9", 16, day(-25), cm)
    record_score(c, "GAD7", 7, day(-25), cm)
    contact(c, -12, cm)
    contact(c, -5, cm, next_contact_on=day(3))
    record_score(c, "PHQ9", 14, day(-5), cm)
    record_score(c, "GAD7", 9, day(-5), cm)
    services.raise_flag(episode=c, kind=Flag.Kind.MEASUREMENT_OVERDUE)
    contact(c, 0, cm, kind="outreach", reached=False, minutes=20)

    d = episode("M-002", "Clark", "Dee", -7)

    def values(flags, mrn, name, status, enrolled, ia, last, contacts, weeks, next_due, phq9, gad7, minutes):
        return {
            "flags": flags,
            "mrn": mrn,
            "name": name,
            "status": list(Episode.Status).index(status),
            "enrolled": day(enrolled),
            "initial_assessment": day(ia),
            "last_contact": None if last is None else day(last),
            "contacts": contacts,
            "weeks": weeks,
            "next_due": None if next_due is None else day(next_due),
            "phq9_baseline": phq9[0],
            "phq9_latest": phq9[1],
            "phq9_change": phq9[2],
            "gad7_baseline": gad7[0],
            "gad7_latest": gad7[1],
            "gad7_change": gad7[2],
            "minutes": minutes,
            "last_review": None,  # the sorting and consults tests cover these two
            "open_recs": 0,
        }

    rank = {kind: position for position, kind in enumerate(Flag.PRIORITY)}
    # flags, MRN, name, status, enrolled, initial assessment, last contact, contacts, weeks, next due,
    # PHQ-9 (baseline, latest, % change), GAD-7 (baseline, latest, % change), minutes this month
    table = {
        a: (rank["safety"], "M-003", ("Young", "Ann"), "active", -95, -90, -40, 3, 12, -26,
            (20, 8, 60), (10, 10, 0), 30),
        b: (rank["needs_discussion"], "M-001", ("Adams", "Bea"), "relapse_prevention", -120, -60, -10, 4, 8, 20,
            (12, 3, 75), (18, 6, 67), 10),
        c: (rank["measurement_overdue"], "M-004", ("Moore", "Cal"), "enrolled", -30, -30, -5, 2, 4, 3,
            (16, 14, 13), (7, 9, -29), 20),
        d: (None, "M-002", ("Clark", "Dee"), "enrolled", -7, -7, None, 0, 1, None, (None,) * 3, (None,) * 3, 0),
    }  # fmt: skip
    expected = {episode.pk: values(*row) for episode, row in table.items()}
    for e in (a, b, c, d):
        e.refresh_from_db()
    return Caseload(a, b, c, d, expected)


# Where each sort key's value lives on a dashboard row.
ROW_VALUE = {
    "flags": lambda row: row.top_flag_rank,
    "mrn": lambda row: row.patient.mrn,
    "name": lambda row: (row.patient.last_name, row.patient.first_name),
    "status": lambda row: list(Episode.Status).index(row.status),  # lifecycle order
    "enrolled": lambda row: row.enrolled_on,
    "initial_assessment": lambda row: row.initial_assessment,
    "last_contact": lambda row: row.last_contact_on,
    "contacts": lambda row: row.completed_contacts,
    "weeks": lambda row: (timezone.localdate() - row.initial_assessment).days // 7,
    "next_due": lambda row: row.next_contact_due,
    "phq9_baseline": lambda row: row.phq9_baseline,
    "phq9_latest": lambda row: row.phq9_latest,
    "phq9_change": lambda row: row.phq9_change,
    "gad7_baseline": lambda row: row.gad7_baseline,
    "gad7_latest": lambda row: row.gad7_latest,
    "gad7_change": lambda row: row.gad7_change,
    "minutes": lambda row: row.minutes_this_month,
    "last_review": lambda row: row.last_case_review_on,
    "open_recs": lambda row: row.open_recommendations,
}


def test_every_sort_key_has_a_known_column():
    assert set(ROW_VALUE) == set(SORTS)


def test_each_row_has_the_registry_columns_defined_in_the_clinical_rules(cm_client, caseload):
    response = cm_client.get(DASHBOARD)

    rows = {row.pk: row for row in rows_of(response)}
    assert set(rows) == set(caseload.expected)
    for pk, expected in caseload.expected.items():
        shown = {key: value(rows[pk]) for key, value in ROW_VALUE.items()}
        assert shown == expected, f"episode {pk}"


def test_rendered_row_shows_the_columns_as_a_care_manager_reads_them(cm_client, caseload):
    response = cm_client.get(DASHBOARD)

    table = CaseloadTable(response.content.decode())
    a = table.row(caseload.a.pk)
    badge, facts = a["Flags"].split(" ", 1)  # the badge, then what raised it (docs/clinical-definitions.md#safety)
    assert badge == "Safety"
    assert facts.startswith("Safety: PHQ-9 item 9 = 1 on") and facts.endswith("no safety assessment yet")
    assert (a["MRN"], a["Name"], a["Status"]) == ("M-003", "Young, Ann", "Active treatment")
    assert (a["Enrolled"], a["Initial assessment"], a["Last contact"]) == (
        f"{day(-95):%Y-%m-%d}",
        f"{day(-90):%Y-%m-%d}",
        f"{day(-40):%Y-%m-%d}",
    )
    assert (a["Contacts"], a["Weeks"]) == ("3", "12")
    assert a["Next due"] == f"{day(-26):%Y-%m-%d} overdue⚠"
    assert (a["PHQ-9 first"], a["PHQ-9 last"], a["PHQ-9 %"]) == ("20", "8", "60%")
    assert (a["GAD-7 first"], a["GAD-7 last"], a["GAD-7 %"]) == ("10", "10", "0%")
    assert a["Min this month"] == "30 / 31"  # toward 99493 (a later month)
    b = table.row(caseload.b.pk)
    assert (b["Status"], b["Flags"], b["Weeks"]) == ("Relapse prevention", "Needs discussion", "8")
    assert b["Next due"] == f"{day(20):%Y-%m-%d}"  # last contact + 30 days in relapse prevention
    assert (b["PHQ-9 %"], b["GAD-7 %"]) == ("75%", "67%")
    c = table.row(caseload.c.pk)
    assert c["Next due"] == f"{day(3):%Y-%m-%d}"  # the date set at the last contact
    assert c["GAD-7 %"] == "-29%"
    d = table.row(caseload.d.pk)
    assert (d["Flags"], d["Last contact"], d["Next due"], d["Contacts"], d["Weeks"]) == ("", DASH, DASH, "0", "1")
    first_month = day(-7).month == day(0).month  # month one of the episode: toward 99492 at 36
    assert (d["PHQ-9 first"], d["PHQ-9 last"], d["PHQ-9 %"]) == ("", "", "")
    assert d["Min this month"] == ("0 / 36" if first_month else "0 / 31")


def test_initial_assessment_date_is_that_of_the_first_completed_initial_assessment(cm_client, clinic, care_manager):
    episode = EpisodeFactory(patient__clinic=clinic, patient__care_manager=care_manager, enrolled_on=day(-50))
    contact(episode, -45, care_manager, kind="initial_assessment", reached=False)
    contact(episode, -43, care_manager, kind="initial_assessment")
    contact(episode, -41, care_manager, kind="initial_assessment")

    response = cm_client.get(DASHBOARD)

    (row,) = rows_of(response)
    assert row.initial_assessment == day(-43)
    assert row.completed_contacts == 2
    assert CaseloadTable(response.content.decode()).row(row.pk)["Weeks"] == str(43 // 7)


def test_next_contact_due_uses_the_date_set_at_the_latest_completed_contact_only(cm_client, clinic, care_manager):
    episode = EpisodeFactory(patient__clinic=clinic, patient__care_manager=care_manager, enrolled_on=day(-50))
    contact(episode, -40, care_manager, kind="initial_assessment", next_contact_on=day(30))
    contact(episode, -20, care_manager)

    response = cm_client.get(DASHBOARD)

    (row,) = rows_of(response)
    assert row.next_contact_due == day(-20 + 14)


def test_minutes_this_month_count_only_this_calendar_month(cm_client, clinic, care_manager):
    today = timezone.localdate()
    first_of_month = today.replace(day=1)
    episode = EpisodeFactory(patient__clinic=clinic, patient__care_manager=care_manager, enrolled_on=day(-70))
    record_contact(episode, first_of_month - datetime.timedelta(days=1), care_manager, minutes=40)
    record_contact(episode, first_of_month, care_manager, minutes=10)
    record_contact(episode, today, care_manager, minutes=25)
    wrong = record_contact(episode, today, care_manager, minutes=60)
    services.mark_contact_entered_in_error(contact=wrong, by=care_manager, reason="Duplicate")

    response = cm_client.get(DASHBOARD)

    (row,) = rows_of(response)
    assert row.minutes_this_month == 35
    assert CaseloadTable(response.content.decode()).row(row.pk)["Min this month"] == "35 / 76"  # 99493 met


# --- Sorting -----------------------------------------------------------------------------


def expected_order(caseload: Caseload, key: str, descending: bool) -> list[int]:
    """By the column's value, empty values last either way; ties by pk (for the flags column, by
    next due first, empty last)."""
    values = {pk: columns[key] for pk, columns in caseload.expected.items()}
    next_due = {pk: columns["next_due"] for pk, columns in caseload.expected.items()}
    if key == "flags":
        tie_order = sorted(values, key=lambda pk: (next_due[pk] is None, next_due[pk] or datetime.date.min, pk))
    else:
        tie_order = sorted(values)
    filled = [pk for pk in tie_order if values[pk] is not None]
    empty = [pk for pk in tie_order if values[pk] is None]
    return sorted(filled, key=lambda pk: values[pk], reverse=descending) + empty


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize("key", list(SORTS))
def test_sorting_by_each_column_orders_the_rows_with_empty_values_last(cm_client, caseload, key, descending):
    sort = f"-{key}" if descending else key

    response = cm_client.get(DASHBOARD, {"sort": sort})

    assert pks_of(response) == expected_order(caseload, key, descending)
    assert response.context["sort"] == sort


def test_sort_orders_are_not_all_the_same(caseload):
    """The fixture must tell the columns apart, or the sorting test above would prove little."""
    orders = {tuple(expected_order(caseload, key, False)) for key in SORTS}

    assert len(orders) >= 8


def test_default_order_puts_the_most_urgent_flag_first(cm_client, caseload):
    response = cm_client.get(DASHBOARD)

    assert pks_of(response) == [caseload.a.pk, caseload.b.pk, caseload.c.pk, caseload.d.pk]


def test_unknown_sort_falls_back_to_the_default(cm_client, caseload):
    response = cm_client.get(DASHBOARD, {"sort": "patient__birth_date"})

    assert response.status_code == 200
    assert pks_of(response) == [caseload.a.pk, caseload.b.pk, caseload.c.pk, caseload.d.pk]


def test_column_header_links_toggle_the_direction_and_keep_the_filters(cm_client, caseload):
    response = cm_client.get(DASHBOARD, {"sort": "mrn", "status": "enrolled"})

    html = response.content.decode()
    assert 'href="?sort=-mrn&amp;status=enrolled"' in html
    assert 'href="?sort=name&amp;status=enrolled"' in html


# --- Filters -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"status": "active"}, ["a"]),
        ({"status": "relapse_prevention"}, ["b"]),
        ({"status": "enrolled"}, ["c", "d"]),
        ({"flag": "safety"}, ["a"]),
        ({"flag": "needs_discussion"}, ["b"]),
        ({"flag": "not_improving"}, []),
        ({"status": "enrolled", "flag": "measurement_overdue"}, ["c"]),
    ],
)
def test_filters_narrow_the_caseload(cm_client, caseload, params, expected):
    response = cm_client.get(DASHBOARD, {**params, "sort": "mrn"})

    assert sorted(pks_of(response)) == sorted(getattr(caseload, name).pk for name in expected)


def test_a_resolved_flag_no_longer_matches_the_flag_filter(cm_client, caseload, care_manager):
    flag = Flag.objects.get(kind=Flag.Kind.SAFETY)
    services.resolve_safety_flag(
        flag=flag, by=care_manager, risk_level="low", actions=["safety_plan"], note="Safe.", assessed_at=timezone.now()
    )

    response = cm_client.get(DASHBOARD, {"flag": "safety"})

    assert pks_of(response) == []


def test_discharged_episodes_are_not_on_the_caseload(cm_client, caseload, care_manager):
    patient_services.change_status(
        episode=caseload.d, status="discharged", on=day(0), by=care_manager, discharge_reason="moved"
    )

    response = cm_client.get(DASHBOARD)

    assert caseload.d.pk not in pks_of(response)
    assert len(pks_of(response)) == 3


@pytest.fixture
def colleague_patient(clinic):
    colleague = UserFactory(username="cm2", first_name="Carla", last_name="Colleague", clinics=[clinic])
    episode = EpisodeFactory(patient__clinic=clinic, patient__care_manager=colleague, patient__mrn="M-900")
    return colleague, episode


def test_care_manager_sees_their_own_caseload_by_default(cm_client, caseload, colleague_patient):
    _, theirs = colleague_patient

    response = cm_client.get(DASHBOARD)

    assert theirs.pk not in pks_of(response)
    assert len(pks_of(response)) == 4
    assert "M-900" not in response.content.decode()


def test_team_choice_shows_all_or_one_care_managers_caseload(cm_client, caseload, colleague_patient):
    colleague, theirs = colleague_patient

    everyone = cm_client.get(DASHBOARD, {"team": "all"})
    mine = cm_client.get(DASHBOARD, {"team": "mine"})
    colleagues = cm_client.get(DASHBOARD, {"team": str(colleague.pk)})

    assert len(pks_of(everyone)) == 5
    assert theirs.pk not in pks_of(mine)
    assert pks_of(colleagues) == [theirs.pk]


def test_clinic_admin_sees_the_whole_clinic_by_default(client, clinic, caseload, colleague_patient):
    client.force_login(UserFactory(username="admin", role=Role.CLINIC_ADMIN, fte=None, clinics=[clinic]))

    response = client.get(DASHBOARD)

    assert len(pks_of(response)) == 5
    assert response.context["form"].cleaned()["team"] == "all"


def test_pcp_sees_their_own_patients_by_default(client, clinic, caseload):
    pcp = UserFactory(username="pcp", role=Role.MEDICAL_PROVIDER, fte=None, clinics=[clinic])
    caseload.b.patient.pcp = pcp
    caseload.b.patient.save()
    client.force_login(pcp)

    response = client.get(DASHBOARD)

    assert pks_of(response) == [caseload.b.pk]
    assert response.context["can_write"] is False


# --- Search ------------------------------------------------------------------------------


def test_search_is_posted_kept_in_the_session_and_never_put_in_the_url(cm_client, caseload):
    response = cm_client.post(f"{DASHBOARD}?status=active&sort=mrn", {"q": "Young"})

    assert response.status_code == 302
    assert response["Location"] == f"{DASHBOARD}?status=active&sort=mrn"
    assert "Young" not in response["Location"]
    assert cm_client.session["caseload_search"]["q"] == "Young"
    page = cm_client.get(response["Location"])
    assert pks_of(page) == [caseload.a.pk]
    assert all("Young" not in href for href, _ in Links(page.content.decode()).links)


@pytest.mark.parametrize(
    "query, expected",
    [
        ("young", ["a"]),
        ("m-001", ["b"]),
        ("Cal Moore", ["c"]),
        ("M-00", ["a", "b", "c", "d"]),
        ("o", ["a", "c"]),
        ("", "all"),
    ],
)
def test_search_by_name_or_mrn_narrows_the_list(cm_client, caseload, query, expected):
    cm_client.post(DASHBOARD, {"q": query})

    response = cm_client.get(DASHBOARD)

    wanted = caseload.expected if expected == "all" else [getattr(caseload, n).pk for n in expected]
    assert sorted(pks_of(response)) == sorted(wanted)


def test_search_persists_across_pages_until_cleared(cm_client, caseload):
    cm_client.post(DASHBOARD, {"q": "Adams"})
    assert pks_of(cm_client.get(DASHBOARD, {"sort": "name"})) == [caseload.b.pk]

    cm_client.post(DASHBOARD, {"q": ""})

    assert len(pks_of(cm_client.get(DASHBOARD))) == 4


# --- Statistics --------------------------------------------------------------------------


def test_statistics_count_the_caseload_as_the_readme_defines_them(cm_client, clinic, care_manager):
    cm = care_manager
    today = timezone.localdate()
    last_month = today.replace(day=1) - datetime.timedelta(days=1)

    def episode():
        return EpisodeFactory(patient__clinic=clinic, patient__care_manager=cm, enrolled_on=day(-70))

    responder = episode()  # 20 -> 8: response, not remission; contacted this month
    record_score(responder, "PHQ9", 20, day(-60), cm)
    record_contact(responder, today, cm, scores=[Answers("PHQ9", answers_totalling("PHQ9", 8))])
    remitter = episode()  # 12 -> 4: response and remission; contacted this month
    record_score(remitter, "PHQ9", 12, day(-60), cm)
    record_contact(remitter, today, cm, scores=[Answers("PHQ9", answers_totalling("PHQ9", 4))])
    stuck = episode()  # 15 -> 12: re-measured, no response; last contact last month
    record_score(stuck, "PHQ9", 15, day(-60), cm)
    record_contact(stuck, last_month, cm, scores=[Answers("PHQ9", answers_totalling("PHQ9", 12))])
    mild = episode()  # 8 -> 2: re-measured, but never depressed enough to count for response
    record_score(mild, "PHQ9", 8, day(-60), cm)
    record_score(mild, "PHQ9", 2, day(-1), cm)
    anxious = episode()  # one PHQ-9 only; a follow-up GAD-7
    record_score(anxious, "PHQ9", 18, day(-60), cm)
    record_score(anxious, "GAD7", 14, day(-60), cm)
    record_score(anxious, "GAD7", 9, day(-2), cm)
    episode()  # nothing recorded yet
    discharged = episode()  # not counted: discharged
    record_score(discharged, "PHQ9", 20, day(-60), cm)
    record_score(discharged, "PHQ9", 2, day(-3), cm)
    patient_services.change_status(episode=discharged, status="discharged", on=day(-1), by=cm, discharge_reason="moved")

    response = cm_client.get(DASHBOARD, {"status": "active"})

    stats = response.context["stats"]
    assert stats["active"] == 6
    assert (stats["contacted_this_month"], stats["contacted_pct"]) == (2, 33)
    assert (stats["with_followup_score"], stats["followup_score_pct"]) == (5, 83)
    assert (stats["followed_depressed"], stats["response"], stats["remission"]) == (3, 2, 1)
    html = response.content.decode()
    assert '<div class="stat-value" data-stat="active">6</div>' in html
    assert 'data-stat="contacted">33%</div>' in html
    assert 'data-stat="followup">83%</div>' in html
    assert '<div class="stat-value" data-stat="response">2</div>' in html
    assert '<div class="stat-value" data-stat="remission">1</div>' in html


def test_statistics_of_an_empty_caseload_show_no_percentages(cm_client):
    response = cm_client.get(DASHBOARD)

    stats = response.context["stats"]
    assert (stats["active"], stats["contacted_pct"], stats["followup_score_pct"]) == (0, None, None)
    assert "No open episodes match." in response.content.decode()


def test_statistics_follow_the_chosen_team(cm_client, caseload, colleague_patient):
    assert cm_client.get(DASHBOARD).context["stats"]["active"] == 4
    assert cm_client.get(DASHBOARD, {"team": "all"}).context["stats"]["active"] == 5


# --- Pagination --------------------------------------------------------------------------


def pager_link(response, label: str) -> str:
    """The pager link as a browser resolves it against the page's address."""
    (href,) = [href for href, text in Links(response.content.decode()).links if text == label]
    return urljoin(response.wsgi_request.get_full_path(), href)


def test_caseload_is_paginated_fifty_to_a_page_and_the_pager_links_work(cm_client, clinic, care_manager):
    EpisodeFactory.create_batch(51, patient__clinic=clinic, patient__care_manager=care_manager)

    first = cm_client.get(DASHBOARD, {"status": "enrolled", "sort": "mrn"})
    second = cm_client.get(pager_link(first, "Next"))
    back = cm_client.get(pager_link(second, "Previous"))

    assert len(rows_of(first)) == 50
    assert len(CaseloadTable(first.content.decode()).rows) == 50
    assert "Page 1 of 2" in first.content.decode()
    assert "Page 2 of 2" in second.content.decode()
    assert len(rows_of(second)) == 1
    assert set(pks_of(first)).isdisjoint(pks_of(second))
    assert second.wsgi_request.GET.dict() == {"status": "enrolled", "sort": "mrn", "page": "2"}
    assert pks_of(back) == pks_of(first)


# --- Query counts ------------------------------------------------------------------------


def add_busy_episodes(count: int, clinic, cm, start: int = 0) -> None:
    """Open episodes with an initial assessment and a follow-up, PHQ-9 and GAD-7 at each, and flags.

    Rows are bulk-inserted and the summaries refreshed in one statement, as a data import does,
    so that two hundred episodes take a second rather than thousands of service calls.
    """
    now = timezone.now()
    patients = Patient.objects.bulk_create(PatientFactory.build_batch(count, clinic=clinic, care_manager=cm))
    episodes = Episode.objects.bulk_create(
        EpisodeFactory.build(patient=patient, enrolled_on=day(-80)) for patient in patients
    )
    contacts, scores, flags = [], [], []
    for i, episode in enumerate(episodes, start=start):
        first = Contact(episode=episode, contact_date=day(-70), kind="initial_assessment", mode="phone", minutes=45)
        later = Contact(episode=episode, contact_date=day(-(i % 30)), kind="follow_up", mode="video", minutes=20)
        contacts += [first, later]
        scores += [
            (first, "PHQ9", 16, 1 if i % 10 == 0 else 0),
            (first, "GAD7", 12, 0),
            (later, "PHQ9", i % 20, 0),
            (later, "GAD7", 7, 0),
        ]
        if i % 10 == 0:
            flags.append(Flag(episode=episode, kind=Flag.Kind.SAFETY, raised_at=now, raised_by=cm))
        if i % 3 == 0:
            flags.append(Flag(episode=episode, kind=Flag.Kind.NEEDS_DISCUSSION, raised_at=now, raised_by=cm))
        if i % 4 == 0:
            flags.append(Flag(episode=episode, kind=Flag.Kind.NOT_IMPROVING, raised_at=now))
    for contact in contacts:
        contact.recorded_by = cm
    Contact.objects.bulk_create(contacts)
    Measurement.objects.bulk_create(measured(c, code, total, item9, cm) for c, code, total, item9 in scores)
    Flag.objects.bulk_create(flags)
    Episode.objects.filter(pk__in=[e.pk for e in episodes]).update(status=Episode.Status.ACTIVE)
    refresh_summaries(Episode.objects.filter(pk__in=[e.pk for e in episodes]))


def measured(contact, code: str, total: int, item9: int, by) -> Measurement:
    answers = answers_totalling(code, total, item9)
    result = score(INSTRUMENTS[code], answers)
    items = dict(zip(ITEM_FIELDS, answers, strict=False))
    return Measurement(
        episode=contact.episode,
        contact=contact,
        instrument=code,
        taken_on=contact.contact_date,
        total=result.total,
        band=result.band,
        recorded_by=by,
        **items,
    )


def count_queries(client, url, params=None) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(queries), response


def test_dashboard_queries_do_not_grow_with_the_caseload(cm_client, clinic, care_manager):
    add_busy_episodes(5, clinic, care_manager)
    cm_client.get(DASHBOARD)  # the session's first request caches the clinic's time zone
    small, small_response = count_queries(cm_client, DASHBOARD)
    add_busy_episodes(195, clinic, care_manager, start=5)

    large, large_response = count_queries(cm_client, DASHBOARD)

    assert len(rows_of(small_response)) == 5
    assert all(row.completed_contacts == 2 and row.gad7_latest == 7 for row in rows_of(large_response))
    assert any(row.open_flags for row in rows_of(small_response))
    assert large_response.context["page"].paginator.count == 200
    assert len(CaseloadTable(large_response.content.decode()).rows) == 50
    assert small == large
    assert large < 17  # 2 of them load the rows' safety facts (registry/safety.py)
    sorted_by_change, _ = count_queries(cm_client, DASHBOARD, {"sort": "-phq9_change", "flag": "needs_discussion"})
    assert sorted_by_change == large + 1  # a narrowed list counts its own rows; the whole caseload reuses the stats


def test_patient_page_queries_do_not_grow_with_the_contacts(cm_client, clinic, care_manager):
    cm = care_manager
    episode = EpisodeFactory(patient__clinic=clinic, patient__care_manager=cm, enrolled_on=day(-90))
    url = reverse("patients:detail", args=[episode.patient.pk])

    def add_contacts(count, start):
        for i in range(start, start + count):
            kind = "initial_assessment" if i == 0 else "follow_up"
            scores = [Answers("PHQ9", answers_totalling("PHQ9", 20 - i % 15, item9=1 if i == 1 else 0))]
            if i % 2 == 0:
                scores.append(Answers("GAD7", answers_totalling("GAD7", 15 - i % 10)))
            made = record_contact(episode, day(-80 + i * 2), cm, kind=kind, minutes=20, scores=scores)
            if i % 5 == 4:
                services.mark_contact_entered_in_error(contact=made, by=cm, reason="Wrong day")
            record_score(episode, "PHQ9", 10, day(-79 + i * 2), cm)

    add_contacts(3, 0)
    cm_client.get(url)
    few, few_response = count_queries(cm_client, url)
    add_contacts(37, 3)

    many, many_response = count_queries(cm_client, url)

    assert len([e for e in few_response.context["timeline"] if e["contact"]]) == 3
    assert many_response.context["timeline_page"].paginator.count == 80  # 40 contacts, 40 scores on their own
    assert len(many_response.context["timeline"]) == 20  # a page (docs/user-guide.md#the-timeline)
    assert few == many
    # The page's panels each cost a fixed number: registry and flags, care (medications,
    # sessions, referrals, education), plans, self-report links; the access log's two (audit);
    # with a safety flag, which safety flags await review (registry/safety.py: the safety facts
    # come from the registry panel's flags and scores); the navbar's unread notices.
    assert many <= 23


# --- Psychiatric case review: last review, open recommendations, review figures ----------


def signed_note(episode, consultant, reviewed_on, *kinds) -> list:
    """A signed consultation note of that day; its recommendations (one per kind), pending."""
    note = notes.start_note(episode=episode, consultant=consultant, by=consultant)
    notes.save_draft(review=note, by=consultant, reviewed_on=reviewed_on, assessment="MDD.", diagnoses=[], summary="")
    made = [
        notes.add_recommendation(review=note, by=consultant, kind=kind, drug="sertraline", details="See note.")
        for kind in kinds
    ]
    notes.sign(review=note, by=consultant)
    return made


@dataclass
class Reviewed:
    recent: Episode
    older: Episode
    never: Episode
    plain: Episode
    colleagues: Episode


@pytest.fixture
def reviewed(clinic, care_manager) -> Reviewed:
    """recent: enrolled 30 days ago, reviewed 5 days ago (day 25), two pending recommendations.
    older: not improving (PHQ-9 20 -> 15 since 85 days), reviewed 40 and 20 days ago; of the
        recommendations one declined, one accepted (still open).
    never: not improving, never reviewed; a draft with a recommendation, and a contact since
        that refreshed its summary.
    plain: enrolled 10 days ago, nothing yet.
    colleagues: another care manager's patient with one pending recommendation.
    """
    cm = care_manager
    consultant = UserFactory(role=Role.PSYCHIATRIC_CONSULTANT, fte=None, clinics=[clinic])
    pcp = UserFactory(role=Role.MEDICAL_PROVIDER, fte=None, clinics=[clinic])

    def episode(mrn, enrolled, care_manager=cm):
        return EpisodeFactory(
            patient__clinic=clinic, patient__care_manager=care_manager, patient__mrn=mrn, enrolled_on=day(enrolled)
        )

    recent = episode("R-1", -30)
    signed_note(recent, consultant, day(-5), "start_medication", "referral")
    older = episode("R-2", -90)
    contact(older, -85, cm, kind="initial_assessment")
    record_score(older, "PHQ9", 20, day(-85), cm)
    contact(older, -3, cm)
    record_score(older, "PHQ9", 15, day(-3), cm)
    (declined,) = signed_note(older, consultant, day(-40), "change_medication")
    notes.respond(recommendation=declined, by=pcp, response="declined", note="Side effects before.")
    (accepted,) = signed_note(older, consultant, day(-20), "adjust_dose")
    notes.respond(recommendation=accepted, by=pcp, response="accepted")
    never = episode("R-3", -80)
    contact(never, -75, cm, kind="initial_assessment")
    record_score(never, "PHQ9", 18, day(-75), cm)
    draft = notes.start_note(episode=never, consultant=consultant, by=consultant)
    notes.add_recommendation(review=draft, by=consultant, kind="start_medication", drug="bupropion")
    contact(never, -3, cm)
    record_score(never, "PHQ9", 16, day(-3), cm)
    plain = episode("R-4", -10)
    colleagues = episode("R-5", -30, care_manager=UserFactory(clinics=[clinic]))
    signed_note(colleagues, consultant, day(-1), "continue")
    return Reviewed(recent, older, never, plain, colleagues)


def test_last_review_and_open_recommendations_columns_show_signed_reviews_only(cm_client, reviewed):
    response = cm_client.get(DASHBOARD)

    rows = {row.pk: row for row in rows_of(response)}
    table = CaseloadTable(response.content.decode())
    shown = {
        name: (
            rows[getattr(reviewed, name).pk].last_case_review_on,
            rows[getattr(reviewed, name).pk].open_recommendations,
            table.row(getattr(reviewed, name).pk)["Last review"],
            table.row(getattr(reviewed, name).pk)["Open recs"],
        )
        for name in ("recent", "older", "never", "plain")
    }
    assert shown == {
        "recent": (day(-5), 2, f"{day(-5):%Y-%m-%d}", "2"),
        "older": (day(-20), 1, f"{day(-20):%Y-%m-%d}", "1"),
        "never": (None, 0, DASH, ""),
        "plain": (None, 0, DASH, ""),
    }


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("last_review", ["older", "recent", "never", "plain"]),
        ("-last_review", ["recent", "older", "never", "plain"]),
        ("open_recs", ["never", "plain", "older", "recent"]),
        ("-open_recs", ["recent", "older", "never", "plain"]),
    ],
)
def test_last_review_and_open_recommendations_sort(cm_client, reviewed, sort, order):
    response = cm_client.get(DASHBOARD, {"sort": sort})

    assert pks_of(response) == [getattr(reviewed, name).pk for name in order]
    assert f'href="?sort={sort.removeprefix("-") if sort.startswith("-") else "-" + sort}"' in response.content.decode()


def test_review_figure_cards_show_the_figures_of_the_caseload(cm_client, reviewed, care_manager):
    mine = cm_client.get(DASHBOARD)
    everyone = cm_client.get(DASHBOARD, {"team": "all"})

    figures = mine.context["review_figures"]
    caseload = Episode.objects.open().filter(patient__care_manager=care_manager)
    program = review_figures(caseload, timezone.localdate())  # the consultant's program page counts the same
    assert {name: program[name] for name in figures} == figures
    assert (figures["new_due"], figures["new_reviewed"], figures["new_reviewed_pct"]) == (3, 1, 33)
    assert (figures["not_improving"], figures["not_improving_reviewed"], figures["not_improving_reviewed_pct"]) == (
        2,
        1,
        50,
    )
    assert figures["open_recommendations"] == 3
    html = " ".join(mine.content.decode().split())
    assert '<div class="stat-value" data-stat="new-reviewed">33%</div>' in html
    assert "New patients reviewed ≤ 4 weeks (1/3)" in html
    assert '<div class="stat-value text-danger" data-stat="not-improving-reviewed">50%</div>' in html
    assert "Not improving reviewed ≤ 60 days (1/2; target 80%)" in html
    assert f'data-stat="open-recommendations"><a href="{reverse("consults:recommendations")}">3</a>' in html
    assert everyone.context["review_figures"]["open_recommendations"] == 4
    assert everyone.context["review_figures"]["new_due"] == 4


def test_review_figure_cards_of_an_empty_caseload_show_dashes(cm_client):
    response = cm_client.get(DASHBOARD)

    html = response.content.decode()
    assert f'<div class="stat-value" data-stat="new-reviewed">{DASH}</div>' in html
    assert f'data-stat="not-improving-reviewed">{DASH}</div>' in html
    assert response.context["review_figures"]["open_recommendations"] == 0
