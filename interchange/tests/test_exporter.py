"""The registry CSV export: each column as docs/clinical-definitions.md#registry-columns defines it, and its cost."""

import csv
import io
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from carereg.lib import csv as csv_file
from consults import notes as consult_notes
from consults.services import record_case_review
from interchange import exporter
from interchange.exporter import COLUMNS, export_rows
from interchange.tests.builders import day
from patients import services as patient_services
from patients.models import Episode
from registry import services
from registry.models import Flag
from tests.factories import EpisodeFactory, PatientFactory, record_contact, record_score

pytestmark = pytest.mark.django_db


def exported(episodes=None, **kwargs) -> list[dict[str, str]]:
    rows = export_rows(episodes if episodes is not None else Episode.objects.all(), timezone.localdate(), **kwargs)
    text = "".join(csv_file.lines(rows))
    return list(csv.DictReader(io.StringIO(text)))


@dataclass
class Caseload:
    active: Episode
    relapse: Episode
    new: Episode
    discharged: Episode


@pytest.fixture
def caseload(clinic, care_manager, consultant) -> Caseload:
    cm = care_manager

    def episode(mrn, enrolled):
        return EpisodeFactory(
            patient__clinic=clinic, patient__mrn=mrn, patient__care_manager=cm, enrolled_on=day(enrolled)
        )

    active = episode("M-003", -95)
    record_contact(active, day(-90), cm, kind="initial_assessment", minutes=60)
    record_score(active, "PHQ9", 20, day(-90), cm, item9=1)
    record_score(active, "GAD7", 10, day(-90), cm)
    record_contact(active, day(-40), cm, minutes=25)
    record_score(active, "PHQ9", 8, day(-40), cm)
    record_score(active, "GAD7", 10, day(-40), cm)
    record_contact(active, day(0), cm, kind="outreach", reached=False, minutes=15)
    services.raise_flag(episode=active, kind=Flag.Kind.MEASUREMENT_OVERDUE)
    services.raise_flag(episode=active, kind=Flag.Kind.NEEDS_DISCUSSION, by=cm, reason="Stalled")
    resolved = services.raise_flag(episode=active, kind=Flag.Kind.NOT_IMPROVING)
    Flag.objects.filter(pk=resolved.pk).update(resolved_at=timezone.now(), resolution_note="Improved")

    relapse = episode("M-001", -120)
    record_contact(relapse, day(-60), cm, kind="initial_assessment", minutes=30)
    record_score(relapse, "PHQ9", 12, day(-125), cm)  # the screening before enrollment is the baseline
    record_contact(relapse, day(-10), cm, next_contact_on=day(20), minutes=10)
    record_score(relapse, "PHQ9", 3, day(-10), cm)
    record_score(relapse, "GAD7", 0, day(-60), cm)
    record_score(relapse, "GAD7", 4, day(-10), cm)
    patient_services.change_status(episode=relapse, status="relapse_prevention", on=day(-10), by=cm)
    record_case_review(episode=relapse, reviewed_on=day(-55), consultant=consultant, summary="Start sertraline.", by=cm)
    record_case_review(episode=relapse, reviewed_on=day(-20), consultant=consultant, summary="Responding.", by=cm)
    # A draft is not a review yet: it leaves the column empty.
    draft = consult_notes.start_note(episode=active, consultant=consultant, by=consultant)
    consult_notes.save_draft(
        review=draft, by=consultant, reviewed_on=day(-5), assessment="Partial response.", diagnoses=[], summary=""
    )

    new = episode("=CMD()", -7)

    discharged = episode("M-009", -200)
    patient_services.change_status(
        episode=discharged, status="discharged", on=day(-100), by=cm, discharge_reason="moved"
    )
    return Caseload(active, relapse, new, discharged)


def test_each_column_is_exported_as_the_clinical_rules_define_it(caseload):
    rows = exported()

    assert list(rows[0]) == list(COLUMNS)
    assert rows == [
        {
            "mrn": "'=CMD()",  # a spreadsheet would run it as a formula
            "clinic": "north",
            "status": "enrolled",
            "enrolled_on": day(-7).isoformat(),
            "weeks_in_treatment": "1",
            "completed_contacts": "0",
            "last_contact_on": "",
            "last_case_review_on": "",
            "next_contact_due": "",
            "baseline_phq9": "",
            "latest_phq9": "",
            "phq9_change_pct": "",
            "baseline_gad7": "",
            "latest_gad7": "",
            "gad7_change_pct": "",
            "minutes_this_month": "0",
            "flags": "",
        },
        {
            "mrn": "M-001",
            "clinic": "north",
            "status": "relapse_prevention",
            "enrolled_on": day(-120).isoformat(),
            "weeks_in_treatment": "8",  # from the initial assessment, 60 days ago
            "completed_contacts": "2",
            "last_contact_on": day(-10).isoformat(),
            "last_case_review_on": day(-20).isoformat(),  # the latest of its two signed reviews
            "next_contact_due": day(20).isoformat(),  # set at the last contact
            "baseline_phq9": "12",
            "latest_phq9": "3",
            "phq9_change_pct": "75",
            "baseline_gad7": "0",
            "latest_gad7": "4",
            "gad7_change_pct": "",  # undefined from a baseline of 0
            "minutes_this_month": str(10 if day(-10).month == day(0).month else 0),
            "flags": "",
        },
        {
            "mrn": "M-003",
            "clinic": "north",
            "status": "active",
            "enrolled_on": day(-95).isoformat(),
            "weeks_in_treatment": "12",
            "completed_contacts": "2",  # the outreach attempt that did not reach the patient does not count
            "last_contact_on": day(-40).isoformat(),
            "last_case_review_on": "",  # a draft note only
            "next_contact_due": day(-26).isoformat(),  # last contact + 14 days in active treatment
            "baseline_phq9": "20",
            "latest_phq9": "8",
            "phq9_change_pct": "60",
            "baseline_gad7": "10",
            "latest_gad7": "10",
            "gad7_change_pct": "0",
            "minutes_this_month": "15",
            "flags": "safety;needs_discussion;measurement_overdue",  # Flag.PRIORITY order; resolved ones left out
        },
    ]


def test_the_last_case_review_follows_the_last_contact():
    assert COLUMNS[COLUMNS.index("last_contact_on") + 1] == "last_case_review_on"


def test_a_worsening_score_has_a_negative_change(clinic, care_manager):
    episode = EpisodeFactory(patient__clinic=clinic, enrolled_on=day(-30))
    record_score(episode, "GAD7", 7, day(-30), care_manager)
    record_score(episode, "GAD7", 9, day(-2), care_manager)

    (row,) = exported()

    assert (row["baseline_gad7"], row["latest_gad7"], row["gad7_change_pct"]) == ("7", "9", "-29")


def test_rows_follow_a_dashboard_sort_when_given_one(caseload):
    assert [row["mrn"] for row in exported(sort="-phq9_latest")] == ["M-003", "M-001", "'=CMD()"]
    assert exported(sort="flags")[0]["mrn"] == "M-003"


def test_the_file_is_named_for_the_day():
    assert exporter.filename(timezone.localdate().replace(year=2026, month=11, day=29)) == (
        "carereg-caseload-2026-11-29.csv"
    )


def busy_episodes(count: int, clinic, cm, start: int = 0) -> None:
    for i in range(start, start + count):
        episode = EpisodeFactory(patient=PatientFactory(clinic=clinic, mrn=f"Q-{i:04d}"), enrolled_on=day(-60))
        record_contact(episode, day(-50), cm, kind="initial_assessment", minutes=30)
        record_score(episode, "PHQ9", 15, day(-50), cm, item9=i % 2)
        record_score(episode, "GAD7", 9, day(-50), cm)
        services.raise_flag(episode=episode, kind=Flag.Kind.FOLLOWUP_OVERDUE)


def count_export_queries() -> tuple[int, list]:
    with CaptureQueriesContext(connection) as queries:
        rows = exported()
    return len(queries), rows


def test_export_queries_do_not_grow_with_the_registry(clinic, care_manager):
    busy_episodes(5, clinic, care_manager)
    small, small_rows = count_export_queries()
    busy_episodes(45, clinic, care_manager, start=5)

    large, large_rows = count_export_queries()

    assert (len(small_rows), len(large_rows)) == (5, 50)
    assert large_rows[1]["flags"] == "safety;followup_overdue"
    assert small == large == 1  # the rows, each with its open flags
