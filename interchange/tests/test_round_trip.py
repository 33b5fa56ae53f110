"""Export after import gives back what the import loaded: status, dates, counts, scores and case reviews."""

import csv
import datetime
import io
import random

import pytest
from django.utils import timezone

from carereg.lib.csv import lines as csv_lines
from interchange.exporter import COLUMNS, export_rows
from interchange.importer import import_registry
from interchange.tests.builders import contact, day, files, iso, measurement, patient, review
from patients.models import Episode
from registry.caseload import month_bounds
from registry.scoring import INSTRUMENTS, percent_change

pytestmark = pytest.mark.django_db


def export() -> dict[str, dict[str, str]]:
    text = "".join(csv_lines(export_rows(Episode.objects.all(), timezone.localdate())))
    return {row["mrn"]: row for row in csv.DictReader(io.StringIO(text))}


def test_a_small_registry_comes_back_as_it_went_in(data_manager, care_manager, consultant):
    rows = {
        "patients": [
            patient(mrn="A-1", enrolled_on=iso(-100), status="active"),
            patient(mrn="B-2", enrolled_on=iso(-300), status="discharged", discharged_on=iso(-200),
                    discharge_reason="moved"),
            patient(mrn="B-2", enrolled_on=iso(-50), status="relapse_prevention"),
            patient(mrn="C-3", enrolled_on=iso(-3), status="enrolled"),
        ],
        "contacts": [
            contact(mrn="A-1", date=iso(-95), kind="initial_assessment", minutes="50"),
            contact(mrn="A-1", date=iso(-30), next_contact_on=iso(-2)),
            contact(mrn="A-1", date=iso(0), kind="outreach", reached="no", minutes="7"),
            contact(mrn="B-2", date=iso(-250), kind="initial_assessment"),
            contact(mrn="B-2", date=iso(-49), kind="initial_assessment", minutes="0"),
            contact(mrn="B-2", date=iso(-20), kind="relapse_prevention"),
        ],
        "measurements": [
            measurement(mrn="A-1", date=iso(-110), items="", total="21"),
            measurement(mrn="A-1", date=iso(-30), items="1 1 1 1 1 1 1 0 1"),
            measurement(mrn="A-1", date=iso(-95), instrument="GAD7", items="2 2 2 2 2 2 2"),
            measurement(mrn="B-2", date=iso(-250), items="3 3 3 3 3 3 3 3 3"),
            measurement(mrn="B-2", date=iso(-49), items="2 2 2 2 2 2 0 0 0"),
            measurement(mrn="B-2", date=iso(-20), items="1 1 0 0 0 0 0 0 0"),
        ],
        "reviews": [
            review(mrn="A-1", date=iso(-40), note="Responding; continue."),
            review(mrn="A-1", date=iso(-90), note="Start sertraline."),
            review(mrn="B-2", date=iso(-250), note="First episode: start therapy."),  # the discharged episode
        ],
    }  # fmt: skip
    assert import_registry(files=files(**rows), by=data_manager).succeeded

    exported = export()

    this_month = lambda offset, minutes: str(minutes if day(offset).month == day(0).month else 0)  # noqa: E731
    assert exported == {
        "A-1": dict(zip(COLUMNS, [
            "A-1", "north", "active", iso(-100), "13", "2", iso(-30), iso(-40), iso(-2),
            "21", "8", "62", "14", "14", "0", "7", "safety",
        ], strict=True)),
        "B-2": dict(zip(COLUMNS, [
            "B-2", "north", "relapse_prevention", iso(-50), "7", "2", iso(-20), "", iso(10),
            "12", "2", "83", "", "", "", this_month(-20, 20), "",
        ], strict=True)),
        "C-3": dict(zip(COLUMNS, [
            "C-3", "north", "enrolled", iso(-3), "0", "0", "", "", "", "", "", "", "", "", "", "0", "",
        ], strict=True)),
    }  # fmt: skip


# --- A generated registry, checked against an independent computation -----------------------

STATUSES = ["enrolled", "active", "relapse_prevention"]


def generated_registry(size: int, seed: int) -> dict[str, list[dict]]:
    """Patients with a past (discharged) episode now and then, contacts on distinct days, scores."""
    rng = random.Random(seed)
    rows = {"patients": [], "contacts": [], "measurements": [], "reviews": []}
    for n in range(size):
        mrn = f"G-{n:04d}"
        if rng.random() < 0.3:
            start, end = -rng.randint(400, 600), -rng.randint(250, 390)
            rows["patients"].append(patient(mrn=mrn, enrolled_on=iso(start), status="discharged",
                                            discharged_on=iso(end), discharge_reason="goals_met"))  # fmt: skip
            rows["contacts"].append(contact(mrn=mrn, date=iso(start + 1), kind="initial_assessment"))
            rows["measurements"].append(measurement(mrn=mrn, date=iso(start + 1), items="3 3 3 3 3 3 3 3 0"))
            if rng.random() < 0.5:  # a review in the past episode: not the open episode's
                rows["reviews"].append(review(mrn=mrn, date=iso(end), note=f"Goals met ({mrn})."))
        enrolled = -rng.randint(0, 200)
        status = rng.choice(STATUSES)
        rows["patients"].append(patient(mrn=mrn, enrolled_on=iso(enrolled), status=status))
        days = sorted(rng.sample(range(enrolled, 1), k=min(rng.randint(0, 8), 1 - enrolled)))
        for index, offset in enumerate(days):
            first = index == 0 and status != "enrolled"
            kind = "initial_assessment" if first else rng.choice(["follow_up", "outreach", "other"])
            reached = first or rng.random() < 0.7
            next_on = iso(offset + rng.randint(0, 30)) if reached and rng.random() < 0.4 else ""
            rows["contacts"].append(contact(mrn=mrn, date=iso(offset), kind=kind, reached="yes" if reached else "no",
                                            minutes=str(rng.randint(0, 90)), next_contact_on=next_on))  # fmt: skip
        for code in ("PHQ9", "GAD7"):
            instrument = INSTRUMENTS[code]
            score_days = sorted(rng.sample(range(enrolled - 30, 1), k=rng.randint(0, 4)))
            for offset in score_days:
                answers = [rng.randint(0, 3) for _ in range(instrument.item_count)]
                if code == "PHQ9":
                    answers[8] = 0 if rng.random() < 0.9 else 1
                legacy = rng.random() < 0.15
                items, total = ("", str(sum(answers))) if legacy else (" ".join(map(str, answers)), "")
                rows["measurements"].append(measurement(mrn=mrn, date=iso(offset), instrument=code,
                                                        items=items, total=total))  # fmt: skip
        for offset in rng.sample(range(enrolled, 1), k=min(rng.randint(0, 3), 1 - enrolled)):  # in any order
            rows["reviews"].append(review(mrn=mrn, date=iso(offset), note=f"Review {offset} of {mrn}."))
    return rows


def expected_row(rows: dict[str, list[dict]], mrn: str) -> dict[str, str]:
    """The export columns computed from the files alone, by docs/clinical-definitions.md#registry-columns."""
    today = timezone.localdate()
    episode = next(p for p in rows["patients"] if p["mrn"] == mrn and p["status"] != "discharged")
    enrolled = datetime.date.fromisoformat(episode["enrolled_on"])
    contacts = [c for c in rows["contacts"] if c["mrn"] == mrn and datetime.date.fromisoformat(c["date"]) >= enrolled]
    completed = sorted((c for c in contacts if c["reached"] == "yes"), key=lambda c: c["date"])
    assessments = [c["date"] for c in completed if c["kind"] == "initial_assessment"]
    start = datetime.date.fromisoformat(assessments[0]) if assessments else enrolled
    last = completed[-1] if completed else None
    cadence = 30 if episode["status"] == "relapse_prevention" else 14
    if last is None:
        next_due = ""
    elif last["next_contact_on"]:
        next_due = last["next_contact_on"]
    else:
        next_due = (datetime.date.fromisoformat(last["date"]) + datetime.timedelta(days=cadence)).isoformat()
    first_of_month, end_of_month = month_bounds(today)
    minutes = sum(
        int(c["minutes"]) for c in contacts if first_of_month <= datetime.date.fromisoformat(c["date"]) <= end_of_month
    )
    reviewed = [r["date"] for r in rows["reviews"] if r["mrn"] == mrn and r["date"] >= episode["enrolled_on"]]
    scores = {}
    for code in ("PHQ9", "GAD7"):
        taken = sorted(
            (m for m in rows["measurements"] if m["mrn"] == mrn and m["instrument"] == code
             and datetime.date.fromisoformat(m["date"]) >= enrolled - datetime.timedelta(days=30)),
            key=lambda m: m["date"],
        )  # fmt: skip
        totals = [int(m["total"]) if m["total"] else sum(map(int, m["items"].split())) for m in taken]
        baseline, latest = (totals[0], totals[-1]) if totals else (None, None)
        change = percent_change(baseline, latest)
        scores[code] = ["" if v is None else str(v) for v in (baseline, latest, change)]
    return dict(zip(COLUMNS, [
        mrn, "north", episode["status"], episode["enrolled_on"], str((today - start).days // 7), str(len(completed)),
        last["date"] if last else "", max(reviewed, default=""), next_due, *scores["PHQ9"], *scores["GAD7"],
        str(minutes),
    ], strict=False))  # fmt: skip


def test_a_generated_registry_round_trips_through_import_and_export(data_manager, care_manager, consultant):
    rows = generated_registry(size=40, seed=7)
    result = import_registry(files=files(**rows), by=data_manager)
    assert result.errors == []

    exported = export()

    mrns = sorted({p["mrn"] for p in rows["patients"]})
    assert sorted(exported) == mrns
    for mrn in mrns:
        row = {column: value for column, value in exported[mrn].items() if column != "flags"}
        assert row == {k: v for k, v in expected_row(rows, mrn).items() if k != "flags"}, mrn
    assert any(row["last_case_review_on"] for row in exported.values())
    assert any(not row["last_case_review_on"] for row in exported.values())
    again = import_registry(files=files(**rows), by=data_manager)
    assert again.created["measurements"] == again.created["reviews"] == 0
    assert again.present["reviews"] == len(rows["reviews"])
