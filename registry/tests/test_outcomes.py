"""Outcome and program figures on hand-built cohorts, at the edges of their windows
(docs/clinical-definitions.md#quality-measures)."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from consults.services import record_case_review
from patients.models import Episode
from registry.outcomes import Period, outcome_figures
from tests.factories import EpisodeFactory, UserFactory, record_contact, record_score

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def cohort(clinic, care_manager):
    """Build episodes enrolled on a given day, scored on given days after it."""

    def build(enrolled_on, scores=(), contacts=(), **patient):
        episode = EpisodeFactory(
            patient__clinic=clinic,
            patient__care_manager=patient.get("care_manager", care_manager),
            enrolled_on=enrolled_on,
            status=Episode.Status.ACTIVE,
        )
        for day, total in scores:
            record_score(episode, "PHQ9", total, enrolled_on + day * DAY, care_manager)
        for day in contacts:
            record_contact(episode, enrolled_on + day * DAY, care_manager)
        return episode

    return build


def figure(measure, today, start, end=None):
    figures = outcome_figures(Episode.objects.all(), Period(start, end or today), today)
    total = figures.total(measure)
    return total.numerator, total.denominator


# --- Response and remission ---------------------------------------------------------------


@pytest.mark.parametrize(("follow_up_day", "counted"), [(304, False), (305, True), (425, True), (426, False)])
def test_12_month_response_counts_a_score_only_inside_the_window(cohort, today, follow_up_day, counted):
    index_day = today - 500 * DAY
    cohort(index_day, scores=[(0, 20), (follow_up_day, 6)])

    assert figure("response_12m", today, index_day) == (1 if counted else 0, 1)


@pytest.mark.parametrize(("index_total", "in_denominator"), [(9, False), (10, True)])
def test_only_an_index_phq9_above_9_enters_the_denominator(cohort, today, index_total, in_denominator):
    index_day = today - 500 * DAY
    cohort(index_day, scores=[(0, index_total), (365, 2)])

    expected = (1, 1) if in_denominator else (0, 0)
    assert figure("response_12m", today, index_day) == expected
    assert figure("remission_12m", today, index_day) == expected


def test_index_is_the_first_phq9_above_9_not_the_first_score(cohort, today):
    enrolled = today - 500 * DAY
    cohort(enrolled, scores=[(0, 8), (30, 16), (30 + 182, 8)])  # index 16 on day 30; 8 at 6 months: response

    assert figure("response_6m", today, enrolled) == (1, 1)
    assert figure("remission_6m", today, enrolled) == (0, 1)


def test_latest_score_in_the_window_decides(cohort, today):
    enrolled = today - 500 * DAY
    cohort(enrolled, scores=[(0, 20), (330, 4), (400, 15)])

    assert figure("response_12m", today, enrolled) == (0, 1)
    assert figure("remission_12m", today, enrolled) == (0, 1)


def test_no_score_in_the_window_is_counted_as_not_met(cohort, today):
    enrolled = today - 500 * DAY
    cohort(enrolled, scores=[(0, 18), (100, 3)])

    assert figure("response_12m", today, enrolled) == (0, 1)


def test_patient_whose_window_is_still_open_is_not_counted_yet(cohort, today):
    enrolled = today - 400 * DAY  # the 12-month window closes at day 425
    cohort(enrolled, scores=[(0, 18), (330, 3)])

    assert figure("response_12m", today, enrolled) == (0, 0)
    assert figure("response_6m", today, enrolled) == (0, 1)  # 6-month window (120-240) has closed


def test_index_outside_the_period_is_not_counted(cohort, today):
    enrolled = today - 500 * DAY
    cohort(enrolled, scores=[(0, 18), (330, 3)])

    assert figure("response_12m", today, enrolled + DAY) == (0, 0)


def test_deceased_patients_are_excluded(cohort, today):
    enrolled = today - 500 * DAY
    episode = cohort(enrolled, scores=[(0, 18), (330, 3)])
    Episode.objects.filter(pk=episode.pk).update(
        status="discharged", discharged_on=enrolled + 340 * DAY, discharge_reason="deceased"
    )

    assert figure("response_12m", today, enrolled) == (0, 0)


# --- Program measures ---------------------------------------------------------------------


def test_contact_rate_counts_each_open_month_once(cohort, today):
    month_start = (today.replace(day=1) - DAY).replace(day=1)  # last month
    month_end = today.replace(day=1) - DAY
    enrolled = month_start - 40 * DAY
    days_in = (month_start - enrolled).days
    cohort(enrolled, scores=[(days_in + 3, 12)], contacts=[days_in + 3])  # contact and score: counts
    cohort(enrolled, contacts=[days_in + 3])  # contact without a score
    cohort(enrolled)  # open, not seen

    assert figure("contact_rate", today, month_start, month_end) == (1, 3)


def test_phq9_utilization_asks_for_a_phq9_in_each_four_month_period_with_a_contact(cohort, today):
    start = datetime.date(today.year - 1, 1, 1)
    end = datetime.date(today.year - 1, 8, 31)
    enrolled = start - 10 * DAY
    # January-April: contact and PHQ-9; May-August: contact only.
    cohort(enrolled, scores=[(20, 12)], contacts=[20, 20 + 150])

    assert figure("phq9_utilization", today, start, end) == (1, 2)


@pytest.mark.parametrize(("days_enrolled", "in_denominator"), [(69, False), (70, True)])
def test_improvement_rate_counts_patients_enrolled_70_days(cohort, today, days_enrolled, in_denominator):
    cohort(today - days_enrolled * DAY, scores=[(0, 16), (days_enrolled, 9)])

    assert figure("improvement_rate", today, today - 365 * DAY) == ((1, 1) if in_denominator else (0, 0))


def test_improvement_means_below_10_or_half_the_baseline(cohort, today):
    cohort(today - 100 * DAY, scores=[(0, 24), (90, 12)])  # 50% lower: improved
    cohort(today - 100 * DAY, scores=[(0, 16), (90, 10)])  # neither: not improved
    cohort(today - 100 * DAY, scores=[(0, 12), (90, 9)])  # below 10: improved

    assert figure("improvement_rate", today, today - 365 * DAY) == (2, 3)


def test_improvement_rate_uses_the_scores_as_they_stood_at_the_period_end(cohort, today):
    cohort(today - 200 * DAY, scores=[(0, 20), (90, 18), (190, 4)])
    end = today - 30 * DAY

    assert figure("improvement_rate", today, end - 365 * DAY, end) == (0, 1)


@pytest.mark.parametrize(("reviewed_days_ago", "counted"), [(60, True), (61, False)])
def test_consultation_rate_counts_reviews_in_the_last_60_days(cohort, today, clinic, reviewed_days_ago, counted):
    consultant = UserFactory(role="psychiatric_consultant", clinics=[clinic])
    episode = cohort(today - 120 * DAY, scores=[(0, 18), (100, 16)])
    record_case_review(
        episode=episode,
        reviewed_on=today - reviewed_days_ago * DAY,
        consultant=consultant,
        summary="Discussed",
        by=consultant,
    )

    assert figure("consultation_rate", today, today - 365 * DAY) == (1 if counted else 0, 1)


def test_improving_patients_are_not_in_the_consultation_denominator(cohort, today):
    cohort(today - 120 * DAY, scores=[(0, 18), (100, 6)])

    assert figure("consultation_rate", today, today - 365 * DAY) == (0, 0)


# --- The command ----------------------------------------------------------------------------


def run(*args) -> str:
    out = io.StringIO()
    call_command("outcomes_report", *args, stdout=out)
    return out.getvalue()


def test_command_prints_clinic_totals_then_each_care_manager(cohort, clinic, other_clinic, care_manager, today):
    enrolled = today - 500 * DAY
    cohort(enrolled, scores=[(0, 20), (360, 4)])
    colleague = UserFactory(username="zoe", clinics=[clinic])
    cohort(enrolled, scores=[(0, 20), (360, 15)], care_manager=colleague)
    EpisodeFactory(patient__clinic=other_clinic, enrolled_on=enrolled)

    lines = run("--clinic", "north", "--from", enrolled.isoformat(), "--to", today.isoformat()).splitlines()

    assert lines[0] == "clinic,care_manager,measure,numerator,denominator,rate"
    assert "north,,response_12m,1,2,0.5000" in lines
    assert "north,,remission_12m,1,2,0.5000" in lines
    assert "north,cm,response_12m,1,1,1.0000" in lines
    assert "north,zoe,response_12m,0,1,0.0000" in lines
    assert "north,,response_6m,0,2,0.0000" in lines
    assert len(lines) == 1 + 3 * 8  # the clinic and two care managers, eight measures each
    assert not any(line.startswith("south") for line in lines)


def test_command_names_the_measures_in_order_with_empty_rate_when_nothing_to_count(clinic):
    lines = run("--clinic", "north").splitlines()

    assert [line.split(",")[2] for line in lines[1:]] == [
        "response_6m",
        "remission_6m",
        "response_12m",
        "remission_12m",
        "phq9_utilization",
        "contact_rate",
        "improvement_rate",
        "consultation_rate",
    ]
    assert lines[1] == "north,,response_6m,0,0,"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-13-01"], "'2026-13-01' is not a date"),
        (["--from", "2026-05-01", "--to", "2026-04-01"], "is after --to"),
        (["--clinic", "nowhere"], "No clinic 'nowhere'"),
    ],
)
def test_command_refuses_bad_arguments_clearly(clinic, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


# --- The page and its downloads -------------------------------------------------------------


def test_clinic_admin_sees_the_figures_with_their_definitions(client, clinic, cohort, today):
    from django.urls import reverse

    admin = UserFactory(role="clinic_admin", clinics=[clinic])
    enrolled = today - 500 * DAY
    cohort(enrolled, scores=[(0, 20), (360, 4)])
    client.force_login(admin)

    response = client.get(reverse("registry:outcomes"), {"start": enrolled.isoformat(), "end": today.isoformat()})

    page = response.content.decode()
    assert response.status_code == 200
    assert "Depression remission at 12 months" in page and "index + 305 to 425 days" in page
    assert '100% <span class="small text-muted">(1/1)</span>' in page
    assert "Enrollments per month" in page and "<svg" in page


def test_care_manager_sees_only_their_own_caseload(client, clinic, cohort, care_manager, today):
    from django.urls import reverse

    enrolled = today - 500 * DAY
    cohort(enrolled, scores=[(0, 20), (360, 4)])
    cohort(enrolled, scores=[(0, 20), (360, 15)], care_manager=UserFactory(username="zoe", clinics=[clinic]))
    client.force_login(care_manager)

    response = client.get(reverse("registry:outcomes_csv"), {"start": enrolled.isoformat()})

    lines = response.content.decode().splitlines()
    assert response["Content-Type"].startswith("text/csv")
    assert "north,,response_12m,1,1,1.0000" in lines
    assert not any(",zoe," in line for line in lines)


def test_pcp_may_not_see_outcome_reports(client, clinic):
    from django.urls import reverse

    client.force_login(UserFactory(role="medical_provider", clinics=[clinic]))

    assert client.get(reverse("registry:outcomes")).status_code == 403


def test_period_ending_in_the_future_is_refused_with_a_message(client, clinic, today):
    from django.urls import reverse

    client.force_login(UserFactory(role="clinic_admin", clinics=[clinic]))

    response = client.get(reverse("registry:outcomes"), {"end": (today + DAY).isoformat()})

    assert "cannot end after today" in response.content.decode()
    assert client.get(reverse("registry:outcomes_csv"), {"end": (today + DAY).isoformat()}).status_code == 400


def test_monthly_csv_has_a_row_per_month(client, clinic, cohort, today):
    from django.urls import reverse

    client.force_login(UserFactory(role="clinic_admin", clinics=[clinic]))
    start = today.replace(day=1) - 60 * DAY
    cohort(start, scores=[(1, 12)], contacts=[1])

    response = client.get(reverse("registry:outcomes_monthly_csv"), {"start": start.isoformat()})

    lines = response.content.decode().splitlines()
    assert lines[0].startswith("month,enrollments,active_at_month_end,contact_rate_numerator")
    assert lines[1].startswith(f"{start:%Y-%m},1,1,1,1")
    assert len(lines) == 1 + len(Period(start, today).months())


def test_report_page_costs_the_same_queries_for_2_or_12_patients(
    client, clinic, cohort, today, django_assert_num_queries
):
    from django.db import connection
    from django.urls import reverse

    client.force_login(UserFactory(role="clinic_admin", clinics=[clinic]))
    url, params = reverse("registry:outcomes"), {"start": (today - 300 * DAY).isoformat()}

    def queries() -> int:
        executed = []

        def count(execute, sql, params, many, context):
            executed.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            assert client.get(url, params).status_code == 200
        return len(executed)

    for _ in range(2):
        cohort(today - 200 * DAY, scores=[(0, 15), (100, 7)], contacts=[100])
    queries()  # the first request of a session loads what later ones reuse
    few = queries()
    for _ in range(10):
        cohort(today - 200 * DAY, scores=[(0, 15), (100, 7)], contacts=[100])

    assert queries() == few


def outcomes_queries(client, params) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("registry:outcomes"), params)
    assert response.status_code == 200
    assert response.context["form"].is_valid()
    return len(queries)


def add_followed_patients(cohort, today, care_managers, consultant, count):
    """`count` patients shared among the care managers, each with a baseline, a response and a few
    contacts; every other one reviewed by the consultant, every third one discharged."""
    from patients.services import change_status

    for n in range(count):
        cm = care_managers[n % len(care_managers)]
        episode = cohort(
            today - (400 - n) * DAY,
            scores=[(0, 15 + n % 8), (100, 7 + n % 6), (330, 4)],
            contacts=range(0, 390, 130),
            care_manager=cm,
        )
        if n % 2 == 0:
            record_case_review(
                episode=episode, reviewed_on=today - 30 * DAY, consultant=consultant, summary="Discussed", by=consultant
            )
        if n % 3 == 0:
            change_status(
                episode=episode, status=Episode.Status.DISCHARGED, on=today - 5 * DAY, by=cm, discharge_reason="moved"
            )


def test_report_page_costs_the_same_queries_for_2_or_12_patients_and_any_period(client, clinic, cohort, today):
    care_managers = [UserFactory(clinics=[clinic]) for _ in range(4)]
    consultant = UserFactory(role="psychiatric_consultant", clinics=[clinic])
    client.force_login(UserFactory(role="clinic_admin", clinics=[clinic]))
    periods = {
        "a month": {"start": (today - 30 * DAY).isoformat()},
        "a year": {"start": (today - 364 * DAY).isoformat()},
        "three years": {"start": (today - 3 * 365 * DAY).isoformat()},
        "one clinic, a year": {"start": (today - 364 * DAY).isoformat(), "clinic": clinic.pk},
    }
    add_followed_patients(cohort, today, care_managers[:1], consultant, 2)
    outcomes_queries(client, periods["a year"])  # the first request of a session loads what later ones reuse
    few = {name: outcomes_queries(client, params) for name, params in periods.items()}
    add_followed_patients(cohort, today, care_managers, consultant, 10)

    many = {name: outcomes_queries(client, params) for name, params in periods.items()}

    assert many == few
    assert many["a month"] == many["a year"] == many["three years"]
    assert many["one clinic, a year"] == many["a year"] + 1  # the clinic chosen, looked up
    # 16 measured (2026-12-07; 17 before the contact rate and PHQ-9 utilization shared one query):
    # session, user and the clinic's time zone (3), the figures and trends (9), the care managers
    # and clinics (2), the navbar's unread notices, the access log
    assert many["a year"] <= 16


def test_the_report_opens_on_a_year_whose_twelve_month_windows_have_closed(client, clinic, today):
    from django.urls import reverse

    client.force_login(UserFactory(role="clinic_admin", clinics=[clinic]))

    response = client.get(reverse("registry:outcomes"))

    period = response.context["period"]
    assert period.end == today - datetime.timedelta(days=425)
    assert period.start == period.end.replace(year=period.end.year - 1) + DAY
    assert "12-month windows have all closed" in response.content.decode()


def test_twelve_month_columns_have_values_on_the_default_period(client, clinic, cohort, today):
    from django.urls import reverse

    client.force_login(UserFactory(role="clinic_admin", clinics=[clinic]))
    index = today - datetime.timedelta(days=600)  # in the default period: 425 to 790 days ago
    cohort(index, scores=[(0, 20), (365, 4)], contacts=[0, 365])

    response = client.get(reverse("registry:outcomes"))

    overall = dict((code, figure) for code, figure in response.context["overall"])
    assert (overall["remission_12m"].numerator, overall["remission_12m"].denominator) == (1, 1)


def test_a_month_cut_short_is_marked_partial():
    from registry.outcome_views import month_label

    period = Period(datetime.date(2025, 3, 15), datetime.date(2026, 3, 14))
    today = datetime.date(2026, 12, 6)

    assert month_label(datetime.date(2025, 3, 1), period, today) == "Mar 25 (partial)"
    assert month_label(datetime.date(2025, 4, 1), period, today) == "Apr 25"
    assert month_label(datetime.date(2026, 3, 1), period, today) == "Mar 26 (partial)"
    assert (
        month_label(datetime.date(2026, 12, 1), Period(datetime.date(2026, 1, 1), today), today) == "Dec 26 (partial)"
    )
