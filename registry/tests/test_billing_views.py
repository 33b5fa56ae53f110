"""The monthly billing report page, its CSV download, and the dashboard's progress toward the month's code."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from patients.models import Episode, Patient
from registry.models import Contact
from tests.factories import ClinicFactory, EpisodeFactory, PatientFactory, UserFactory, record_contact

pytestmark = pytest.mark.django_db

MONTH = datetime.date(2026, 3, 1)
REPORT = reverse("registry:billing", kwargs={"month": MONTH})
CSV = reverse("registry:billing_csv", kwargs={"month": MONTH})


def enrolled(clinic, cm, mrn, on=datetime.date(2026, 3, 2), last_name="Doe") -> Episode:
    return EpisodeFactory(
        patient__clinic=clinic, patient__care_manager=cm, patient__mrn=mrn, patient__last_name=last_name, enrolled_on=on
    )


def add(episode, on, minutes, at=None):
    return record_contact(episode, on, episode.patient.care_manager, minutes=minutes, contact_time=at)


@pytest.fixture
def admin(clinic):
    return UserFactory(username="dana", role=Role.CLINIC_ADMIN, fte=None, clinics=[clinic])


@pytest.fixture
def colleague(clinic):
    return UserFactory(username="james", clinics=[clinic], last_name="Zed")


@pytest.fixture
def month(clinic, care_manager, colleague):
    """North: two of the care manager's patients and one of a colleague's; South: one patient."""
    mine = enrolled(clinic, care_manager, "N-1", last_name="Alvarez")
    add(mine, datetime.date(2026, 3, 2), 30, datetime.time(10, 0))
    add(mine, datetime.date(2026, 3, 2), 30, datetime.time(10, 15))  # 45 united
    short = enrolled(clinic, care_manager, "N-2", on=datetime.date(2026, 1, 5), last_name="Brook")
    add(short, datetime.date(2026, 3, 9), 20)
    theirs = enrolled(clinic, colleague, "N-3", on=datetime.date(2025, 11, 5), last_name="Cole")
    add(theirs, datetime.date(2026, 3, 9), 80)
    south = ClinicFactory(code="south", name="South Clinic")
    south_cm = UserFactory(username="sam", clinics=[south])
    add(enrolled(south, south_cm, "S-SECRET", last_name="Southerner"), datetime.date(2026, 3, 3), 50)
    return mine, short, theirs


def rows(response) -> list[tuple]:
    return [(r.patient.mrn, r.episode_month, r.minutes, r.codes_text) for r in response.context["rows"]]


def test_admin_sees_the_clinics_month_with_codes_and_totals(client, admin, month):
    client.force_login(admin)

    response = client.get(REPORT)

    assert response.status_code == 200
    assert rows(response) == [
        ("N-1", 1, 45, "99492"),
        ("N-2", 3, 20, "G2214"),
        ("N-3", 5, 80, "99493;99494"),
    ]
    assert response.context["totals"] == {"99492": 1, "99493": 1, "99494": 1, "G2214": 1}
    page = response.content.decode()
    assert "Alvarez" in page and "March 2026" in page
    assert "S-SECRET" not in page and "Southerner" not in page


def test_care_manager_sees_only_their_own_caseload(cm_client, month):
    response = cm_client.get(REPORT)

    assert [mrn for mrn, *_ in rows(response)] == ["N-1", "N-2"]
    assert "Cole" not in response.content.decode()


def test_care_manager_cannot_widen_the_report_to_a_colleague(cm_client, month, colleague):
    response = cm_client.get(REPORT, {"care_manager": colleague.pk})

    assert [mrn for mrn, *_ in rows(response)] == ["N-1", "N-2"]


def test_admin_narrows_to_one_care_manager(client, admin, month, colleague):
    client.force_login(admin)

    response = client.get(REPORT, {"care_manager": colleague.pk})

    assert [mrn for mrn, *_ in rows(response)] == ["N-3"]


def test_another_clinics_care_manager_id_narrows_nothing_and_shows_nothing_of_theirs(client, admin, month):
    client.force_login(admin)
    south_cm = Patient.objects.get(mrn="S-SECRET").care_manager

    response = client.get(REPORT, {"care_manager": south_cm.pk, "clinic": south_cm.clinics.get().pk})

    assert [mrn for mrn, *_ in rows(response)] == ["N-1", "N-2", "N-3"]


@pytest.mark.parametrize("role", [Role.PSYCHIATRIC_CONSULTANT, Role.MEDICAL_PROVIDER])
def test_consultants_and_pcps_may_not_see_billing(client, clinic, month, role):
    client.force_login(UserFactory(username="other", role=role, fte=None, clinics=[clinic]))

    assert client.get(REPORT).status_code == 403
    assert client.get(CSV).status_code == 403


def test_csv_download_has_the_commands_columns_and_the_users_rows(client, admin, month):
    client.force_login(admin)

    response = client.get(CSV)

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="carereg-billing-2026-03.csv"'
    assert response["Cache-Control"] == "no-store"
    assert response.content.decode() == (
        "mrn,clinic,care_manager,episode_month,minutes,codes\r\n"
        "N-1,north,cm,1,45,99492\r\n"
        "N-2,north,cm,3,20,G2214\r\n"
        "N-3,north,james,5,80,99493;99494\r\n"
    )


def test_month_picker_moves_to_the_months_page_keeping_the_filters(client, admin, month, colleague):
    client.force_login(admin)

    response = client.get(reverse("registry:billing_index"), {"month": "2026-03", "care_manager": colleague.pk})

    assert response.status_code == 302
    assert response["Location"] == f"{REPORT}?care_manager={colleague.pk}"


def test_billing_without_a_month_opens_this_month(cm_client):
    response = cm_client.get(reverse("registry:billing_index"))

    assert response["Location"] == reverse("registry:billing", kwargs={"month": timezone.localdate().replace(day=1)})


def test_a_month_that_does_not_exist_is_not_found(cm_client):
    assert cm_client.get("/billing/2026-13/").status_code == 404


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_report_and_csv_queries_do_not_grow_with_the_month_and_the_page_shows_a_hundred_rows(
    client, admin, clinic, care_manager, month
):
    client.force_login(admin)
    client.get(REPORT)  # the session's first request caches the clinic's time zone
    small_page, small_csv = count_queries(client, REPORT), count_queries(client, CSV)
    patients = Patient.objects.bulk_create(PatientFactory.build_batch(120, clinic=clinic, care_manager=care_manager))
    episodes = Episode.objects.bulk_create(
        EpisodeFactory.build(patient=p, enrolled_on=datetime.date(2026, 2, 1)) for p in patients
    )
    Contact.objects.bulk_create(
        Contact(episode=e, contact_date=MONTH, kind="follow_up", mode="phone", minutes=40, recorded_by=care_manager)
        for e in episodes
    )

    large_page, large_csv = count_queries(client, REPORT), count_queries(client, CSV)

    page_one, page_two = client.get(REPORT), client.get(REPORT, {"page": 2})
    assert len(page_one.context["rows"]) == 123
    assert page_one.context["totals"]["99493"] == 121  # every row counts, not only the page's
    assert (len(page_one.context["page"]), len(page_two.context["page"])) == (100, 23)
    assert (small_page, small_csv) == (large_page, large_csv)
    assert large_page < 10


# --- The dashboard's progress toward the month's code --------------------------------------


def minutes_cell(response, episode) -> str:
    html = response.content.decode()
    row = re.search(rf'<tr data-episode="{episode.pk}">.*?</tr>', html, re.S).group(0)
    cell = re.search(r'<td class="text-end minutes"[^>]*>(.*?)</td>', row, re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", " ", cell).split())


def test_dashboard_shows_minutes_toward_the_months_next_threshold(cm_client, clinic, care_manager):
    today = timezone.localdate()
    new = enrolled(clinic, care_manager, "D-NEW", on=today.replace(day=1))
    add(new, today, 28)
    older = enrolled(clinic, care_manager, "D-OLD", on=today - datetime.timedelta(days=120))
    add(older, today, 40)
    before = enrolled(clinic, care_manager, "D-MET", on=today - datetime.timedelta(days=120))
    add(before, today, 76)

    response = cm_client.get(reverse("registry:dashboard"))

    assert minutes_cell(response, new) == "28 / 36"
    assert minutes_cell(response, older) == "40 / 76"
    assert minutes_cell(response, before) == "76 / 106"
    assert 'value="28" max="36" aria-label="28 of 36 minutes toward 99492"' in response.content.decode()


def test_dashboard_minutes_count_overlapping_entries_once(cm_client, clinic, care_manager):
    today = timezone.localdate()
    episode = enrolled(clinic, care_manager, "D-1", on=today - datetime.timedelta(days=60))
    add(episode, today, 30, datetime.time(10, 0))
    add(episode, today, 30, datetime.time(10, 15))

    response = cm_client.get(reverse("registry:dashboard"))

    (row,) = response.context["page"].object_list
    assert row.minutes_this_month == 45
