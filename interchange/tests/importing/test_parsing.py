"""The parsing stage: each row's text into typed values, or every problem of the row at once.
Pure: no database (pytest-django refuses a query in these tests), the lookup tables built here."""

import dataclasses
import datetime
from types import SimpleNamespace

import pytest

from accounts.models import Role
from interchange.importing.parsing import (
    ContactRow,
    FieldError,
    MeasurementRow,
    PatientRow,
    References,
    ReviewRow,
    parse_contact_row,
    parse_date,
    parse_items,
    parse_measurement_row,
    parse_patient_row,
    parse_review_row,
)
from registry import scoring

TODAY = datetime.date(2026, 6, 15)


def staff(username: str, role: str, *, active: bool = True) -> SimpleNamespace:
    return SimpleNamespace(username=username, role=role, is_active=active)


@pytest.fixture
def refs() -> References:
    """North, which the importer belongs to; South, which they do not; three staff of North."""
    people = [
        staff("cm", Role.CARE_MANAGER),
        staff("drchen", Role.PSYCHIATRIC_CONSULTANT, active=False),
        staff("gone", Role.CARE_MANAGER, active=False),
    ]
    return References(
        clinics={"north": object(), "south": object()},
        allowed_clinics={"north"},
        staff={person.username: person for person in people},
        staff_clinics={person.username: {"north"} for person in people},
        baseline_lookback_days={"north": 30, "south": 30},
    )


def patient_fields(**fields) -> dict[str, str]:
    return {
        "mrn": "A-1",
        "clinic": "north",
        "first_name": "Ann",
        "last_name": "Young",
        "birth_date": "1970-01-31",
        "sex": "female",
        "care_manager": "cm",
        "psychiatric_consultant": "",
        "pcp": "",
        "enrolled_on": "2026-03-01",
        "status": "discharged",
        "discharged_on": "2026-06-01",
        "discharge_reason": "goals_met",
        **fields,
    }


def measurement_fields(**fields) -> dict[str, str]:
    return {
        "mrn": "A-1",
        "clinic": "north",
        "date": "2026-03-05",
        "instrument": "PHQ9",
        "items": "",
        "total": "",
        **fields,
    }


def test_a_patient_row_becomes_typed_values(refs):
    row, problems = parse_patient_row(patient_fields(), 2, refs=refs, today=TODAY)

    assert problems == []
    assert row == PatientRow(
        line=2,
        mrn="A-1",
        clinic="north",
        first_name="Ann",
        last_name="Young",
        birth_date=datetime.date(1970, 1, 31),
        sex="female",
        care_manager="cm",
        psychiatric_consultant="",
        pcp="",
        enrolled_on=datetime.date(2026, 3, 1),
        status="discharged",
        discharged_on=datetime.date(2026, 6, 1),
        discharge_reason="goals_met",
    )
    assert row.key == ("north", "A-1")


def test_every_problem_of_a_patient_row_is_reported_at_once(refs):
    fields = patient_fields(
        clinic="south", birth_date="1899-12-31", care_manager="gone", enrolled_on="2026-06-16", discharge_reason=""
    )

    row, problems = parse_patient_row(fields, 7, refs=refs, today=TODAY)

    assert row is None
    assert problems == [
        ("clinic", "you may not import into clinic 'south': you do not belong to it"),
        ("birth_date", "1899-12-31 is before 1900-01-01"),
        ("care_manager", "gone's account is inactive"),
        ("enrolled_on", "2026-06-16 is in the future"),
        ("discharge_reason", "required when the status is discharged"),
    ]


def test_a_contact_row_reads_yes_no_empty_minutes_and_repeated_interventions(refs):
    fields = {
        "mrn": "A-1",
        "clinic": "north",
        "date": "2026-03-05",
        "kind": "follow_up",
        "mode": "phone",
        "reached": "YES",
        "minutes": "",
        "interventions": "psychoeducation; safety_planning;psychoeducation",
        "next_contact_on": "2026-03-19",
        "note": "Called back",
    }

    row, problems = parse_contact_row(fields, 3, refs=refs, today=TODAY)

    assert problems == []
    assert row == ContactRow(
        line=3,
        mrn="A-1",
        clinic="north",
        date=datetime.date(2026, 3, 5),
        kind="follow_up",
        mode="phone",
        reached=True,
        minutes=0,
        interventions=("psychoeducation", "safety_planning"),
        next_contact_on=datetime.date(2026, 3, 19),
        note="Called back",
    )


def test_a_contact_row_with_a_next_contact_before_it_is_refused(refs):
    fields = {"mrn": "A-1", "clinic": "north", "date": "2026-03-05", "kind": "follow_up", "mode": "phone"}
    fields |= {"reached": "no", "minutes": "601", "interventions": "hugs", "next_contact_on": "2026-03-04"}

    row, problems = parse_contact_row(fields, 3, refs=refs, today=TODAY)

    assert row is None
    assert [column for column, _ in problems] == ["minutes", "interventions", "next_contact_on"]
    assert problems[0] == ("minutes", "must be 0-600, not 601")
    assert problems[2] == ("next_contact_on", "2026-03-04 is before the contact date (2026-03-05)")


def test_a_score_row_is_scored_from_its_items(refs):
    row, problems = parse_measurement_row(measurement_fields(items="1 2 3 0 1 2 3 0 1"), 4, refs=refs, today=TODAY)

    assert problems == []
    assert row == MeasurementRow(
        line=4,
        mrn="A-1",
        clinic="north",
        date=datetime.date(2026, 3, 5),
        instrument="PHQ9",
        items=(1, 2, 3, 0, 1, 2, 3, 0, 1),
        total=13,
    )


def test_a_legacy_total_is_kept_without_items_except_where_the_items_decide(refs):
    row, problems = parse_measurement_row(measurement_fields(total="13"), 4, refs=refs, today=TODAY)
    assert (row.items, row.total, problems) == (None, 13, [])

    row, problems = parse_measurement_row(measurement_fields(instrument="CSSRS", total="2"), 5, refs=refs, today=TODAY)
    assert row is None
    assert problems == [("total", "C-SSRS screener is scored from its answers: give the items, not a total")]


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"items": "1 2 3", "total": "6"}, ("total", "give the items or, when they are unknown, the total: not both")),
        ({}, ("items", "required: the answers separated by spaces (or a total when they are unknown)")),
        ({"items": "2 2 5 2 2 2 2 2 0"}, ("items", "PHQ-9 item 3 must be 0-3, not 5")),
        ({"items": "2 2 2"}, ("items", "PHQ-9 needs 9 answers, got 3")),
        ({"total": "28"}, ("total", "PHQ-9 total must be 0-27, not 28")),
        ({"date": "2026-02-30", "total": "3"}, ("date", "2026-02-30 is not a real date")),
    ],
)
def test_a_wrong_score_row_says_what_is_wrong_with_it(refs, fields, problem):
    row, problems = parse_measurement_row(measurement_fields(**fields), 4, refs=refs, today=TODAY)

    assert (row, problems) == (None, [problem])


def test_an_instrument_added_to_the_registry_imports_without_a_change_to_the_importer(refs, monkeypatch):
    """Instruments are looked up in registry.scoring.INSTRUMENTS, not listed by the importer."""
    new = dataclasses.replace(scoring.PHQ2, code="NEW2", name="New-2", max_answer=4)
    monkeypatch.setitem(scoring.INSTRUMENTS, "NEW2", new)

    row, problems = parse_measurement_row(measurement_fields(instrument="NEW2", items="4 1"), 4, refs=refs, today=TODAY)
    assert (row.instrument, row.items, row.total, problems) == ("NEW2", (4, 1), 5, [])

    _, problems = parse_measurement_row(measurement_fields(instrument="XYZ9", items="1"), 5, refs=refs, today=TODAY)
    assert problems == [("instrument", f"'XYZ9' is not one of {', '.join(scoring.INSTRUMENTS)}")]
    assert "NEW2" in problems[0][1]


def test_a_review_names_a_consultant_whose_account_has_closed_since(refs):
    """The review happened: who wrote it stays who wrote it, unlike a care team named for today."""
    fields = {
        "mrn": "A-1",
        "clinic": "north",
        "date": "2026-03-10",
        "consultant": "drchen",
        "note": "Start sertraline.",
    }

    row, problems = parse_review_row(fields, 2, refs=refs, today=TODAY)
    assert row == ReviewRow(2, "A-1", "north", datetime.date(2026, 3, 10), "drchen", "Start sertraline.")

    _, problems = parse_review_row(fields | {"consultant": "cm", "note": ""}, 3, refs=refs, today=TODAY)
    assert problems == [("consultant", "cm is not a psychiatric consultant"), ("note", "required")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "required"),
        ("15/06/2026", "'15/06/2026' is not a date in YYYY-MM-DD form"),
        ("2026-06-16", "2026-06-16 is in the future"),
    ],
)
def test_a_date_is_iso_real_and_not_after_today(text, message):
    with pytest.raises(FieldError, match=f"^{message}$"):
        parse_date(text, today=TODAY)


def test_item_answers_are_checked_against_each_items_own_range():
    """The C-SSRS's sixth question has three answers where the others have two."""
    assert parse_items("0 0 0 0 0 2", scoring.CSSRS) == (0, 0, 0, 0, 0, 2)
    with pytest.raises(FieldError, match=r"^C-SSRS screener item 5 must be 0-1, not 2$"):
        parse_items("0 0 0 0 2 0", scoring.CSSRS)
