"""CoCM billing time (docs/clinical-definitions.md#cocm-billing-time): the codes at every threshold
and the minutes that count."""

import datetime
import io
import random

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from patients.models import Episode
from registry import services
from registry.billing import (
    billable_minutes,
    billing_codes,
    billing_rows,
    code_totals,
    episode_month,
    format_codes,
    next_target,
    united_minutes,
)
from registry.models import Contact
from tests.factories import ClinicFactory, EpisodeFactory, UserFactory, record_contact

MONTH = datetime.date(2026, 3, 1)


def codes(minutes: int, first_month: bool) -> str:
    return format_codes(billing_codes(minutes, first_month=first_month))


# --- The codes: pure rules -----------------------------------------------------------------


@pytest.mark.parametrize(
    "minutes, expected",
    [
        (0, ""),
        (15, ""),
        (16, "G2214"),
        (35, "G2214"),
        (36, "99492"),
        (70, "99492"),
        (85, "99492"),
        (86, "99492;99494"),
        (115, "99492;99494"),
        (116, "99492;99494x2"),
        (145, "99492;99494x2"),
        (146, "99492;99494x3"),
    ],
)
def test_first_month_codes_at_each_threshold(minutes, expected):
    assert codes(minutes, first_month=True) == expected


@pytest.mark.parametrize(
    "minutes, expected",
    [
        (15, ""),
        (16, "G2214"),
        (30, "G2214"),
        (31, "99493"),
        (60, "99493"),
        (75, "99493"),
        (76, "99493;99494"),
        (105, "99493;99494"),
        (106, "99493;99494x2"),
        (136, "99493;99494x3"),
    ],
)
def test_later_month_codes_at_each_threshold(minutes, expected):
    assert codes(minutes, first_month=False) == expected


@pytest.mark.parametrize(
    "minutes, first_month, target",
    [
        (0, True, (36, "99492")),
        (28, True, (36, "99492")),
        (36, True, (86, "99494")),
        (86, True, (116, "99494")),
        (116, True, (146, "99494")),
        (30, False, (31, "99493")),
        (31, False, (76, "99494")),
        (76, False, (106, "99494")),
    ],
)
def test_next_target_is_the_base_code_then_each_add_on(minutes, first_month, target):
    assert next_target(minutes, first_month=first_month) == target


def test_episode_month_counts_calendar_months_from_the_consent_month():
    enrolled = datetime.date(2026, 1, 31)

    assert episode_month(enrolled, datetime.date(2026, 1, 1)) == 1
    assert episode_month(enrolled, datetime.date(2026, 2, 1)) == 2
    assert episode_month(enrolled, datetime.date(2027, 1, 1)) == 13


def test_united_minutes_counts_overlaps_once_and_untimed_contacts_in_full():
    day = datetime.date(2026, 3, 2)
    t = datetime.time

    assert united_minutes([(day, t(10, 0), 30), (day, t(10, 15), 30)]) == 45
    assert united_minutes([(day, t(10, 0), 60), (day, t(10, 10), 10)]) == 60
    assert united_minutes([(day, t(10, 0), 30), (day, t(10, 30), 30)]) == 60
    assert united_minutes([(day, None, 30), (day, None, 30), (day, t(10, 0), 20)]) == 80
    assert united_minutes([(day, t(10, 0), 30), (day + datetime.timedelta(days=1), t(10, 0), 30)]) == 60


# --- The minutes that count, in SQL (tests that take the clinic fixture use the database) -----


@pytest.fixture
def cm(clinic):
    return UserFactory(username="maria", clinics=[clinic])


def enrolled(clinic, cm, on=datetime.date(2026, 2, 10), mrn="B-001") -> Episode:
    return EpisodeFactory(patient__clinic=clinic, patient__care_manager=cm, patient__mrn=mrn, enrolled_on=on)


def add(episode, on, minutes, at=None, by=None, **fields):
    return record_contact(episode, on, by or episode.patient.care_manager, minutes=minutes, contact_time=at, **fields)


def minutes_of(episode, month=MONTH) -> int:
    (row,) = [row for row in billing_rows(Episode.objects.filter(pk=episode.pk), month)]
    return row.minutes


def test_overlapping_entries_count_once(clinic, cm):
    episode = enrolled(clinic, cm)
    add(episode, datetime.date(2026, 3, 2), 30, datetime.time(10, 0))
    add(episode, datetime.date(2026, 3, 2), 30, datetime.time(10, 15))

    assert minutes_of(episode) == 45


def test_an_entry_inside_another_adds_nothing_and_touching_entries_add_up(clinic, cm):
    episode = enrolled(clinic, cm)
    add(episode, datetime.date(2026, 3, 2), 60, datetime.time(9, 0))
    add(episode, datetime.date(2026, 3, 2), 10, datetime.time(9, 10))
    add(episode, datetime.date(2026, 3, 2), 15, datetime.time(10, 0))

    assert minutes_of(episode) == 75


def test_same_time_on_different_days_and_untimed_entries_count_in_full(clinic, cm):
    episode = enrolled(clinic, cm)
    add(episode, datetime.date(2026, 3, 2), 20, datetime.time(10, 0))
    add(episode, datetime.date(2026, 3, 3), 20, datetime.time(10, 0))
    add(episode, datetime.date(2026, 3, 3), 15)
    add(episode, datetime.date(2026, 3, 3), 15)

    assert minutes_of(episode) == 70


def test_outreach_that_did_not_reach_the_patient_counts(clinic, cm):
    episode = enrolled(clinic, cm)
    add(episode, datetime.date(2026, 3, 2), 20, kind="outreach", reached=False)

    assert minutes_of(episode) == 20


def test_entered_in_error_and_other_months_do_not_count(clinic, cm):
    episode = enrolled(clinic, cm)
    add(episode, datetime.date(2026, 2, 28), 40)
    add(episode, datetime.date(2026, 3, 31), 25)
    add(episode, datetime.date(2026, 4, 1), 50)
    wrong = add(episode, datetime.date(2026, 3, 5), 60)
    services.mark_contact_entered_in_error(contact=wrong, by=cm, reason="Duplicate")

    assert minutes_of(episode) == 25


def test_time_before_the_consent_date_does_not_count(clinic, cm):
    episode = enrolled(clinic, cm, on=datetime.date(2026, 3, 10))
    # The services refuse such a contact; one can still exist if the consent date was corrected later.
    Contact.objects.create(
        episode=episode, contact_date=datetime.date(2026, 3, 9), kind="other", mode="phone", minutes=30, recorded_by=cm
    )
    add(episode, datetime.date(2026, 3, 10), 20)

    assert minutes_of(episode) == 20


def test_sql_minutes_agree_with_the_reference_union_on_random_entries(clinic, cm):
    rng = random.Random(5)
    episode = enrolled(clinic, cm)
    entries = []
    for _ in range(40):
        day = datetime.date(2026, 3, rng.randint(1, 4))
        at = None if rng.random() < 0.2 else datetime.time(rng.randint(8, 11), rng.choice([0, 10, 15, 30, 45]))
        minutes = rng.choice([0, 5, 10, 20, 30, 45, 60])
        add(episode, day, minutes, at)
        entries.append((day, at, minutes))

    assert minutes_of(episode) == united_minutes(entries)


def test_the_same_expression_annotates_any_episode_queryset(clinic, cm):
    first, second = enrolled(clinic, cm), enrolled(clinic, cm, mrn="B-002")
    add(first, datetime.date(2026, 3, 2), 30, datetime.time(10, 0))
    add(second, datetime.date(2026, 3, 2), 30, datetime.time(10, 0))
    add(second, datetime.date(2026, 3, 2), 30, datetime.time(10, 0))

    got = dict(Episode.objects.annotate(m=billable_minutes(MONTH, datetime.date(2026, 3, 31))).values_list("pk", "m"))

    assert got == {first.pk: 30, second.pk: 30}


# --- The month's rows -------------------------------------------------------------------------


def test_rows_list_every_episode_open_in_the_month_with_its_month_number_and_codes(clinic, cm):
    new = enrolled(clinic, cm, on=datetime.date(2026, 3, 3), mrn="A-NEW")
    add(new, datetime.date(2026, 3, 3), 90)
    older = enrolled(clinic, cm, on=datetime.date(2025, 12, 20), mrn="B-OLD")
    add(older, datetime.date(2026, 3, 4), 31)
    idle = enrolled(clinic, cm, on=datetime.date(2026, 1, 5), mrn="C-IDLE")
    gone = enrolled(clinic, cm, on=datetime.date(2025, 6, 1), mrn="D-GONE")
    Episode.objects.filter(pk=gone.pk).update(
        status="discharged", discharged_on=datetime.date(2026, 2, 27), discharge_reason="moved"
    )
    late = enrolled(clinic, cm, on=datetime.date(2026, 4, 1), mrn="E-LATE")

    rows = billing_rows(Episode.objects.all(), MONTH)

    assert [(r.patient.mrn, r.episode_month, r.minutes, r.codes_text) for r in rows] == [
        ("A-NEW", 1, 90, "99492;99494"),
        ("B-OLD", 4, 31, "99493"),
        ("C-IDLE", 3, 0, ""),
    ]
    assert late.pk not in [r.episode.pk for r in rows] and idle.pk in [r.episode.pk for r in rows]
    assert code_totals(rows) == {"99492": 1, "99493": 1, "99494": 1, "G2214": 0}


# --- manage.py billing_report ---------------------------------------------------------------


def run_report(*args) -> str:
    out = io.StringIO()
    call_command("billing_report", *args, stdout=out)
    return out.getvalue()


def test_command_prints_the_exact_csv_for_one_clinic(clinic, cm):
    first = enrolled(clinic, cm, on=datetime.date(2026, 3, 1), mrn="N-1")
    add(first, datetime.date(2026, 3, 2), 60, datetime.time(9, 0))
    add(first, datetime.date(2026, 3, 2), 60, datetime.time(9, 30))  # 90 minutes united
    later = enrolled(clinic, cm, on=datetime.date(2026, 1, 15), mrn="N-2")
    add(later, datetime.date(2026, 3, 9), 16)
    enrolled(clinic, None, on=datetime.date(2026, 2, 1), mrn="N-3")
    south = ClinicFactory(code="south")
    south_cm = UserFactory(username="sam", clinics=[south])
    add(enrolled(south, south_cm, mrn="S-1"), datetime.date(2026, 3, 2), 40)

    output = run_report("--month", "2026-03", "--clinic", "north")

    assert output == (
        "mrn,clinic,care_manager,episode_month,minutes,codes\r\n"
        "N-1,north,maria,1,90,99492;99494\r\n"
        "N-2,north,maria,3,16,G2214\r\n"
        "N-3,north,,2,0,\r\n"
    )


def test_command_without_a_clinic_reports_every_clinic(clinic, cm):
    add(enrolled(clinic, cm, mrn="N-1"), datetime.date(2026, 3, 2), 40)
    south = ClinicFactory(code="south")
    add(enrolled(south, UserFactory(username="sam", clinics=[south]), mrn="S-1"), datetime.date(2026, 3, 2), 10)

    lines = run_report("--month", "2026-03").splitlines()

    assert lines[1:] == ["N-1,north,maria,2,40,99493", "S-1,south,sam,2,10,"]


@pytest.mark.parametrize("month", ["2026-13", "2026-3-1", "March", ""])
def test_command_refuses_a_bad_month_clearly(month):
    with pytest.raises(CommandError, match="YYYY-MM"):
        run_report("--month", month)


def test_command_refuses_an_unknown_clinic(clinic):
    with pytest.raises(CommandError, match="No clinic with the code 'nowhere'"):
        run_report("--month", "2026-03", "--clinic", "nowhere")


def test_the_current_month_is_month_one_for_a_patient_enrolled_this_month(clinic, cm):
    today = timezone.localdate()
    episode = enrolled(clinic, cm, on=today.replace(day=1))
    add(episode, today, 36)

    (row,) = billing_rows(Episode.objects.all(), today)

    assert (row.episode_month, row.codes_text) == (1, "99492")
