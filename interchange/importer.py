"""Registry CSV import: patients.csv, contacts.csv, measurements.csv and, optionally,
reviews.csv; all or nothing (docs/data-formats.md#files-carereg-reads-the-registry-import).

This module runs the stages of interchange/importing in one transaction and records the run:
the files are read (columns), every row is checked (parsing) before anything is written, each
patient's rows are matched to the registry (placement), then written through the apps'
services (writing). If any row was refused, the whole import is rolled back and every error
is reported as `file:line: column: what`.

Running the same files again creates nothing twice: patients are matched by clinic and MRN,
episodes by patient and enrollment date, contacts by episode, date, kind, mode, minutes and
reached, measurements by episode, date, instrument and total, case reviews by episode, date,
consultant and text.
"""

import datetime
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from accounts.models import Clinic
from interchange.importing import placement
from interchange.importing.columns import (
    CONTACTS,
    FILES,
    MEASUREMENTS,
    OPTIONAL_FILES,
    PATIENTS,
    REVIEWS,
    RowError,
    read_csv,
)
from interchange.importing.parsing import ROW_PARSERS
from interchange.importing.writing import Writer
from interchange.models import ImportRun
from registry import services

# A page lists this many errors and counts the rest: 200,000 bad rows must not make an 18 MB page.
MAX_ERRORS_LISTED = 100
PROGRESS_SECONDS = 1.0  # how often a running import reports its progress


@dataclass
class ImportResult:
    errors: list[str] = field(default_factory=list)
    rows_read: dict[str, int] = field(default_factory=dict)
    # patients, patients_updated, episodes, contacts, measurements, reviews
    created: Counter = field(default_factory=Counter)
    present: Counter = field(default_factory=Counter)  # episodes, contacts, measurements, reviews
    clinic_codes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    run_id: int | None = None  # the ImportRun that records it

    @property
    def succeeded(self) -> bool:
        return not self.errors

    @property
    def listed_errors(self) -> list[str]:
        return self.errors[:MAX_ERRORS_LISTED]

    @property
    def unlisted_error_count(self) -> int:
        return max(len(self.errors) - MAX_ERRORS_LISTED, 0)

    def summary(self) -> list[str]:
        if not self.succeeded:
            return [f"Nothing was imported: {len(self.errors)} error{'s' if len(self.errors) != 1 else ''}."]
        created, present = self.created, self.present
        patients = f"{created['patients']} new patient{'s' if created['patients'] != 1 else ''}"
        if created["patients_updated"]:
            patients += f", {created['patients_updated']} updated"
        lines = [
            f"{PATIENTS}: {self.rows_read.get(PATIENTS, 0)} rows: {created['episodes']} episodes created "
            f"({patients}), {present['episodes']} already present",
        ]
        for name, counted in ((CONTACTS, "contacts"), (MEASUREMENTS, "measurements"), (REVIEWS, "reviews")):
            if name in self.rows_read:  # an optional file left out is not mentioned
                lines.append(
                    f"{name}: {self.rows_read[name]} rows: {created[counted]} created, "
                    f"{present[counted]} already present"
                )
        return lines


Progress = Callable[[str, int, int], None]  # (stage, rows checked, rows written or found present)


def import_registry(
    *,
    files: Mapping[str, bytes | str | None],
    by,
    how: str = ImportRun.How.COMMAND,
    progress: Progress | None = None,
) -> ImportResult:
    """Import the files as `by`, into the clinics `by` belongs to; all or nothing.

    files maps each file name (patients.csv, contacts.csv, measurements.csv, reviews.csv) to
    its content; a name left out is a missing file, except reviews.csv, which is optional.
    The run is recorded (ImportRun) whatever the outcome. progress, if given, is told about
    once a second how far the checking ("checking") and then the writing ("writing") are.
    The caller applies the limits first (interchange.importing.limits).
    """
    started = time.perf_counter()
    importer = _Importer(by=by, today=timezone.localdate(), progress=progress)
    # One summary refresh and one flag refresh per touched episode, at the end, not per row.
    with transaction.atomic(), services.deferred_refreshes():
        importer.run(files)
        if importer.errors:
            transaction.set_rollback(True)
    result = importer.result()
    result.seconds = time.perf_counter() - started
    result.run_id = _record(result, by=by, how=how).pk
    return result


def _record(result: ImportResult, *, by, how: str) -> ImportRun:
    created, present = result.created, result.present  # empty when the run failed: nothing was imported
    run = ImportRun.objects.create(
        by_username=by.username,
        how=how,
        succeeded=result.succeeded,
        error_count=len(result.errors),
        rows_read=sum(result.rows_read.values()),
        patients_created=created["patients"],
        episodes_created=created["episodes"],
        episodes_present=present["episodes"],
        contacts_created=created["contacts"],
        contacts_present=present["contacts"],
        measurements_created=created["measurements"],
        measurements_present=present["measurements"],
        reviews_created=created["reviews"],
        reviews_present=present["reviews"],
    )
    run.clinics.set(Clinic.objects.filter(code__in=result.clinic_codes))
    return run


class _Importer:
    """One run of the stages: errors from all of them, counts from the writing."""

    def __init__(self, *, by, today: datetime.date, progress: Progress | None = None):
        self.by = by
        self.today = today
        self.progress = progress
        self.checked = 0
        self.last_report = 0.0
        self.errors: list[RowError] = []
        self.writer: Writer | None = None
        self.rows_read: dict[str, int] = {}
        self.clinic_codes: set[str] = set()

    def result(self) -> ImportResult:
        ok = not self.errors
        written = self.writer is not None and ok
        return ImportResult(
            errors=[str(error) for error in sorted(self.errors, key=RowError.sort_key)],
            rows_read=self.rows_read,
            created=self.writer.created if written else Counter(),
            present=self.writer.present if written else Counter(),
            clinic_codes=sorted(self.clinic_codes),
        )

    def report(self, stage: str, *, at_once: bool = False) -> None:
        """Tell the progress callback how far the import is: at most once a second, unless at once."""
        now = time.monotonic()
        if self.progress is None or not (at_once or now - self.last_report >= PROGRESS_SECONDS):
            return
        self.last_report = now
        self.progress(stage, self.checked, self.writer.written if self.writer else 0)

    def run(self, files: Mapping[str, bytes | str | None]) -> None:
        raw = {}
        for name in FILES:
            if name in OPTIONAL_FILES and files.get(name) is None:
                raw[name] = []
                continue
            raw[name], errors = read_csv(name, files.get(name))
            self.errors += errors
            self.rows_read[name] = len(raw[name])
        refs = placement.load_references(raw, by=self.by)
        parsed, unreadable_patients = self._parse(raw, refs)
        self.clinic_codes &= set(refs.clinics)
        self._write(parsed, refs, skip=unreadable_patients)
        self.report("writing", at_once=True)

    def _parse(self, raw: dict, refs) -> tuple[dict[str, list], set]:
        """Every row checked before anything is written; the patients whose own row is unreadable."""
        parsed: dict[str, list] = {name: [] for name in FILES}
        unreadable_patients = set()
        for name in FILES:
            for line, fields in raw[name]:
                self.clinic_codes.add(fields.get("clinic", ""))
                row, problems = ROW_PARSERS[name](fields, line, refs=refs, today=self.today)
                self.errors += [RowError(name, line, column, message) for column, message in problems]
                if row is not None:
                    parsed[name].append(row)
                elif name == PATIENTS:
                    unreadable_patients.add((fields.get("clinic", ""), fields.get("mrn", "")))
                self.checked += 1
                self.report("checking")
        self.report("checking", at_once=True)
        return parsed, unreadable_patients

    def _write(self, parsed: dict[str, list], refs, *, skip: set) -> None:
        """Patient by patient: their rows placed in the registry, then written."""
        by_patient = placement.group_by_patient(parsed)
        existing = placement.load_existing(
            by_patient.keys(), clinic_codes=self.clinic_codes, reviews=bool(parsed[REVIEWS])
        )
        self.writer = Writer(by=self.by, refs=refs, existing=existing, errors=self.errors)
        for key, rows in by_patient.items():
            if key in skip:
                continue  # the patient's own row is unreadable: its contacts and scores cannot be placed
            plan, problems = placement.place_patient(key, rows, existing, refs)
            self.errors += problems
            if plan is not None:
                self.writer.write(plan)
            self.report("writing")
