"""Registry CSV import: patients.csv, contacts.csv, measurements.csv and, optionally,
reviews.csv; all or nothing.

Reading and checking a row are pure functions of its text (and of lookup tables loaded
once), so each column's rule is tested without a database. Writes go through the same
services as the app (enroll_patient, start_episode, record_contact, record_measurement,
record_total_only_measurement, record_case_review) with the importing person as the actor,
so scoring, the PHQ-9 item-9 safety flag, history and episode summaries happen exactly as
when a care manager (or consultant) types the data in. Each row is written in its own
savepoint, so one refused row neither stops the others from being checked nor poisons a
PostgreSQL transaction; if any row was refused, the whole import is rolled back and every
error is reported as `file:line: column: what`.

Running the same files again creates nothing twice: patients are matched by clinic and MRN,
episodes by patient and enrollment date, contacts by episode, date, kind, mode, minutes and
reached, measurements by episode, date, instrument and total, case reviews by episode, date,
consultant and text.
"""

import csv
import datetime
import io
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise

from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import Clinic, Role, User
from consults import services as consult_services
from consults.models import CaseReview
from interchange.models import ImportRun
from patients import services as patient_services
from patients.models import Episode, Patient, Sex
from patients.services import CARE_TEAM_ROLES
from registry import services
from registry.models import MAX_CONTACT_MINUTES, Contact, Intervention, Measurement, RegistrySettings
from registry.scoring import INSTRUMENTS, Instrument
from registry.summaries import refresh_summary

PATIENTS, CONTACTS, MEASUREMENTS, REVIEWS = "patients.csv", "contacts.csv", "measurements.csv", "reviews.csv"
FILES = (PATIENTS, CONTACTS, MEASUREMENTS, REVIEWS)
OPTIONAL_FILES = (REVIEWS,)  # left out: the import is as it was without it; given: checked like the others
COLUMNS = {
    PATIENTS: (
        "mrn",
        "clinic",
        "first_name",
        "last_name",
        "birth_date",
        "sex",
        "care_manager",
        "psychiatric_consultant",
        "pcp",
        "enrolled_on",
        "status",
        "discharged_on",
        "discharge_reason",
    ),
    CONTACTS: (
        "mrn",
        "clinic",
        "date",
        "kind",
        "mode",
        "reached",
        "minutes",
        "interventions",
        "next_contact_on",
        "note",
    ),
    MEASUREMENTS: ("mrn", "clinic", "date", "instrument", "items", "total"),
    REVIEWS: ("mrn", "clinic", "date", "consultant", "note"),
}
# Patient fields that must agree on every row (episode) of the same patient.
PATIENT_FIELDS = ("first_name", "last_name", "birth_date", "sex", "care_manager", "psychiatric_consultant", "pcp")
# A different name or birth date under a known MRN is most likely the wrong patient, not an update.
IDENTITY_FIELDS = ("first_name", "last_name", "birth_date")
STATUSES = ("enrolled", "active", "relapse_prevention", "discharged")
EARLIEST_BIRTH_DATE = datetime.date(1900, 1, 1)
MAX_LENGTHS = {"mrn": 32, "first_name": 100, "last_name": 100}
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A page lists this many errors and counts the rest: 200,000 bad rows must not make an 18 MB page.
MAX_ERRORS_LISTED = 100
PROGRESS_SECONDS = 1.0  # how often a running import reports its progress


# --- Errors ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    file: str
    line: int | None  # physical line in the file, the header being line 1; None: the file itself
    column: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.column}: {self.message}"

    def sort_key(self) -> tuple:
        columns = COLUMNS.get(self.file, ())
        column = columns.index(self.column) if self.column in columns else -1
        return (FILES.index(self.file) if self.file in FILES else len(FILES), self.line or 0, column)


class FieldError(ValueError):
    """A value that cannot be read; the message says what is wrong with it."""


# --- Reading one value (pure) ------------------------------------------------------------


def parse_required(text: str) -> str:
    if not text:
        raise FieldError("required")
    return text


def parse_date(text: str, *, today: datetime.date | None = None) -> datetime.date:
    """A YYYY-MM-DD date, not after today when today is given."""
    if not ISO_DATE.fullmatch(text):
        raise FieldError(f"{text!r} is not a date in YYYY-MM-DD form" if text else "required")
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        raise FieldError(f"{text} is not a real date") from None
    if today is not None and day > today:
        raise FieldError(f"{text} is in the future")
    return day


def parse_optional_date(text: str, *, today: datetime.date | None = None) -> datetime.date | None:
    return parse_date(text, today=today) if text else None


def parse_choice(text: str, choices: Iterable[str]) -> str:
    choices = list(choices)
    if text not in choices:
        shown = f"{text!r} is not" if text else "required:"
        raise FieldError(f"{shown} one of {', '.join(choices)}")
    return text


def parse_yes_no(text: str) -> bool:
    answer = text.lower()
    if answer not in ("yes", "no"):
        raise FieldError(f"{text!r} is not yes or no" if text else "required: yes or no")
    return answer == "yes"


def parse_int(text: str, *, low: int, high: int, what: str = "") -> int:
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise FieldError(f"{what}must be a whole number {low}-{high}, not {text!r}" if text else "required")
    number = int(text)
    if not low <= number <= high:
        raise FieldError(f"{what}must be {low}-{high}, not {number}")
    return number


def parse_items(text: str, instrument: Instrument) -> tuple[int, ...]:
    """The item answers, separated by spaces, in order: 'PHQ-9 item 3 must be 0-3, not 5'."""
    answers = text.split()
    if len(answers) != instrument.item_count:
        raise FieldError(f"{instrument.name} needs {instrument.item_count} answers, got {len(answers)}")
    values = []
    for number, answer in enumerate(answers, start=1):
        highest = instrument.max_for(number)
        if not re.fullmatch(r"[0-9]+", answer) or not 0 <= int(answer) <= highest:
            shown = answer if re.fullmatch(r"-?[0-9]+", answer) else repr(answer)
            raise FieldError(f"{instrument.name} item {number} must be 0-{highest}, not {shown}")
        values.append(int(answer))
    return tuple(values)


def parse_interventions(text: str) -> tuple[str, ...]:
    """Intervention codes separated by ';'; each once, in the order given."""
    codes = [code.strip() for code in text.split(";") if code.strip()]
    unknown = [code for code in codes if code not in Intervention.values]
    if unknown:
        raise FieldError(f"{', '.join(map(repr, unknown))} not among {', '.join(Intervention.values)}")
    return tuple(dict.fromkeys(codes))


def parse_text(text: str, *, max_length: int, required: bool = True) -> str:
    if required and not text:
        raise FieldError("required")
    if len(text) > max_length:
        raise FieldError(f"longer than {max_length} characters")
    return text


# --- Reading one row (pure) --------------------------------------------------------------


@dataclass(frozen=True)
class PatientRow:
    line: int
    mrn: str
    clinic: str
    first_name: str
    last_name: str
    birth_date: datetime.date
    sex: str
    care_manager: str
    psychiatric_consultant: str
    pcp: str
    enrolled_on: datetime.date
    status: str
    discharged_on: datetime.date | None
    discharge_reason: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.clinic, self.mrn)


@dataclass(frozen=True)
class ContactRow:
    line: int
    mrn: str
    clinic: str
    date: datetime.date
    kind: str
    mode: str
    reached: bool
    minutes: int
    interventions: tuple[str, ...]
    next_contact_on: datetime.date | None
    note: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.clinic, self.mrn)

    def match_key(self, episode_id: int) -> tuple:
        return (episode_id, self.date, self.kind, self.mode, self.minutes, self.reached)


@dataclass(frozen=True)
class MeasurementRow:
    line: int
    mrn: str
    clinic: str
    date: datetime.date
    instrument: str
    items: tuple[int, ...] | None  # None: a legacy total without its items
    total: int

    @property
    def key(self) -> tuple[str, str]:
        return (self.clinic, self.mrn)

    def match_key(self, episode_id: int) -> tuple:
        return (episode_id, self.date, self.instrument, self.total)


@dataclass(frozen=True)
class ReviewRow:
    line: int
    mrn: str
    clinic: str
    date: datetime.date
    consultant: str
    note: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.clinic, self.mrn)

    def match_key(self, episode_id: int) -> tuple:
        return (episode_id, self.date, self.consultant, self.note)


@dataclass
class References:
    """What rows name, looked up once: clinics by code and staff by username."""

    clinics: dict[str, Clinic] = field(default_factory=dict)
    allowed_clinics: set[str] = field(default_factory=set)
    staff: dict[str, User] = field(default_factory=dict)
    staff_clinics: dict[str, set[str]] = field(default_factory=dict)
    # How long before enrollment a score still belongs to the episode (the clinic's setting).
    baseline_lookback_days: dict[str, int] = field(default_factory=dict)

    def check_clinic(self, code: str) -> str:
        if not code:
            raise FieldError("required")
        if code not in self.clinics:
            raise FieldError(f"no clinic with code {code!r}")
        if code not in self.allowed_clinics:
            raise FieldError(f"you may not import into clinic {code!r}: you do not belong to it")
        return code

    def check_staff(self, username: str, column: str, clinic: str | None, *, past: bool = False) -> str:
        """A care team member: an account with the column's role, working at the row's clinic.

        past: the person did something already recorded (a case review), so an account closed
        since then is still who did it; a care team named for the patient now must be active.
        """
        if not username:
            return ""
        user = self.staff.get(username)
        if user is None:
            raise FieldError(f"no staff account {username!r}")
        if not user.is_active and not past:
            raise FieldError(f"{username}'s account is inactive")
        role = CARE_TEAM_ROLES[column]
        if user.role != role:
            raise FieldError(f"{username} is not a {Role(role).label.lower()}")
        if clinic is not None and clinic not in self.staff_clinics.get(username, set()):
            raise FieldError(f"{username} does not work at clinic {clinic!r}")
        return username


Parsed = dict[str, object]
Problems = list[tuple[str, str]]  # (column, message)


def _read_columns(fields: Mapping[str, str], parsers: Mapping[str, Callable[[str], object]]) -> tuple[Parsed, Problems]:
    values, problems = {}, []
    for column, parse in parsers.items():
        try:
            values[column] = parse(fields.get(column, ""))
        except FieldError as error:
            problems.append((column, str(error)))
    return values, problems


def _key_columns(refs: References) -> dict[str, Callable[[str], object]]:
    return {
        "mrn": lambda text: parse_text(text, max_length=MAX_LENGTHS["mrn"]),
        "clinic": refs.check_clinic,
    }


def parse_patient_row(
    fields: Mapping[str, str], line: int, *, refs: References, today: datetime.date
) -> tuple[PatientRow | None, Problems]:
    # Care team membership is checked against the row's clinic once that clinic is known.
    clinic = fields.get("clinic", "") if fields.get("clinic", "") in refs.clinics else None
    parsers = {
        **_key_columns(refs),
        "first_name": lambda text: parse_text(text, max_length=MAX_LENGTHS["first_name"]),
        "last_name": lambda text: parse_text(text, max_length=MAX_LENGTHS["last_name"]),
        "birth_date": lambda text: _birth_date(text, today),
        "sex": lambda text: parse_choice(text, Sex.values),
        **{column: (lambda text, column=column: refs.check_staff(text, column, clinic)) for column in CARE_TEAM_ROLES},
        "enrolled_on": lambda text: parse_date(text, today=today),
        "status": lambda text: parse_choice(text, STATUSES),
        "discharged_on": lambda text: parse_optional_date(text, today=today),
        "discharge_reason": lambda text: parse_choice(text, Episode.DischargeReason.values) if text else "",
    }
    values, problems = _read_columns(fields, parsers)
    problems += _discharge_problems(values, fields)
    if problems:
        return None, problems
    return PatientRow(line=line, **values), []


def _birth_date(text: str, today: datetime.date) -> datetime.date:
    born = parse_date(text, today=today)
    if born < EARLIEST_BIRTH_DATE:
        raise FieldError(f"{text} is before {EARLIEST_BIRTH_DATE:%Y-%m-%d}")
    return born


def _discharge_problems(values: Parsed, fields: Mapping[str, str]) -> Problems:
    """Discharge date and reason are given exactly when the status is discharged."""
    if "status" not in values:
        return []
    discharged = values["status"] == Episode.Status.DISCHARGED
    problems = []
    for column in ("discharged_on", "discharge_reason"):
        given = bool(fields.get(column, ""))
        if discharged and not given:
            problems.append((column, "required when the status is discharged"))
        elif given and not discharged:
            problems.append((column, f"must be empty when the status is {values['status']}"))
    discharged_on, enrolled_on = values.get("discharged_on"), values.get("enrolled_on")
    if discharged and discharged_on and enrolled_on and discharged_on < enrolled_on:
        problems.append(("discharged_on", f"{discharged_on:%Y-%m-%d} is before enrolled_on ({enrolled_on:%Y-%m-%d})"))
    return problems


def parse_contact_row(
    fields: Mapping[str, str], line: int, *, refs: References, today: datetime.date
) -> tuple[ContactRow | None, Problems]:
    parsers = {
        **_key_columns(refs),
        "date": lambda text: parse_date(text, today=today),
        "kind": lambda text: parse_choice(text, Contact.Kind.values),
        "mode": lambda text: parse_choice(text, Contact.Mode.values),
        "reached": parse_yes_no,
        "minutes": lambda text: parse_int(text, low=0, high=MAX_CONTACT_MINUTES) if text else 0,
        "interventions": parse_interventions,
        "next_contact_on": parse_optional_date,
        "note": lambda text: text,
    }
    values, problems = _read_columns(fields, parsers)
    day, next_on = values.get("date"), values.get("next_contact_on")
    if day and next_on and next_on < day:
        problems.append(("next_contact_on", f"{next_on:%Y-%m-%d} is before the contact date ({day:%Y-%m-%d})"))
    if problems:
        return None, problems
    return ContactRow(line=line, **values), []


def parse_measurement_row(
    fields: Mapping[str, str], line: int, *, refs: References, today: datetime.date
) -> tuple[MeasurementRow | None, Problems]:
    parsers = {
        **_key_columns(refs),
        "date": lambda text: parse_date(text, today=today),
        "instrument": lambda text: parse_choice(text, INSTRUMENTS),
    }
    values, problems = _read_columns(fields, parsers)
    items_text, total_text = fields.get("items", ""), fields.get("total", "")
    instrument = INSTRUMENTS.get(values.get("instrument", ""))
    if items_text and total_text:
        problems.append(("total", "give the items or, when they are unknown, the total: not both"))
    elif not items_text and not total_text:
        problems.append(("items", "required: the answers separated by spaces (or a total when they are unknown)"))
    elif instrument is not None:
        try:
            if items_text:
                values["items"] = parse_items(items_text, instrument)
                values["total"] = sum(values["items"])
            elif not instrument.total_only_allowed:
                raise FieldError(f"{instrument.name} is scored from its answers: give the items, not a total")
            else:
                values["items"] = None
                values["total"] = parse_int(
                    total_text, low=0, high=instrument.max_total, what=f"{instrument.name} total "
                )
        except FieldError as error:
            problems.append(("items" if items_text else "total", str(error)))
    if problems:
        return None, problems
    return MeasurementRow(line=line, **values), []


def parse_review_row(
    fields: Mapping[str, str], line: int, *, refs: References, today: datetime.date
) -> tuple[ReviewRow | None, Problems]:
    clinic = fields.get("clinic", "") if fields.get("clinic", "") in refs.clinics else None
    parsers = {
        **_key_columns(refs),
        "date": lambda text: parse_date(text, today=today),
        "consultant": lambda text: refs.check_staff(parse_required(text), "psychiatric_consultant", clinic, past=True),
        "note": parse_required,
    }
    values, problems = _read_columns(fields, parsers)
    if problems:
        return None, problems
    return ReviewRow(line=line, **values), []


ROW_PARSERS = {
    PATIENTS: parse_patient_row,
    CONTACTS: parse_contact_row,
    MEASUREMENTS: parse_measurement_row,
    REVIEWS: parse_review_row,
}


# --- Reading a file (pure) ---------------------------------------------------------------


def read_csv(name: str, data: bytes | str | None) -> tuple[list[tuple[int, dict[str, str]]], list[RowError]]:
    """The data rows of one file as (physical line, {column: stripped text}), or what is wrong."""
    if data is None:
        return [], [RowError(name, None, "file", "missing")]
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = data[: error.start].count(b"\n") + 1
            return [], [RowError(name, line, "file", "not UTF-8 text")]
    data = data.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(data, newline=""))
    expected = COLUMNS[name]
    rows, errors, header, previous = [], [], None, 0
    try:
        for record in reader:
            line, previous = previous + 1, reader.line_num  # a quoted value may span lines: where it began
            if header is None:
                header = [cell.strip().lower() for cell in record]
                errors += _header_problems(name, header)
                if errors:
                    return [], errors
                continue
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                errors.append(RowError(name, line, "row", f"expected {len(header)} values, found {len(record)}"))
                continue
            rows.append((line, {column: cell.strip() for column, cell in zip(header, record, strict=True)}))
    except csv.Error as error:
        errors.append(RowError(name, reader.line_num, "row", f"cannot be read as CSV ({error})"))
    if header is None:
        errors.append(
            RowError(name, 1, "header", f"the file is empty; the first line names the columns: {','.join(expected)}")
        )
    return rows, errors


def _header_problems(name: str, header: list[str]) -> list[RowError]:
    expected = COLUMNS[name]
    problems = []
    repeated = sorted({column for column in header if header.count(column) > 1})
    missing = [column for column in expected if column not in header]
    extra = [column or "(empty)" for column in dict.fromkeys(header) if column not in expected]
    if repeated:
        problems.append(RowError(name, 1, "header", f"repeated column(s): {', '.join(repeated)}"))
    if missing:
        problems.append(RowError(name, 1, "header", f"missing column(s): {', '.join(missing)}"))
    if extra:
        problems.append(RowError(name, 1, "header", f"unexpected column(s): {', '.join(extra)}"))
    return problems


def count_rows(data: bytes) -> int:
    """The data rows of a file as read_csv reads them (the header and blank lines aside).

    For the upload limits, before anything is checked; a file that is not UTF-8 CSV counts its
    lines, and the import then says what is wrong with it.
    """
    try:
        records = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
        return max(sum(1 for record in records if any(cell.strip() for cell in record)) - 1, 0)
    except (UnicodeDecodeError, csv.Error):
        return data.count(b"\n")


# --- Episodes of a patient (pure) --------------------------------------------------------


@dataclass
class EpisodeWindow:
    """One episode of a patient as the import sees it: in the files, in the registry, or both."""

    enrolled_on: datetime.date
    discharged_on: datetime.date | None
    row: PatientRow | None = None
    episode: Episode | None = None
    failed: bool = False
    contacts: list[ContactRow] = field(default_factory=list)
    measurements: list[MeasurementRow] = field(default_factory=list)
    reviews: list[ReviewRow] = field(default_factory=list)

    def describe(self) -> str:
        end = f"to {self.discharged_on:%Y-%m-%d}" if self.discharged_on else "open"
        return f"{self.enrolled_on:%Y-%m-%d} {end}"


def episode_for(day: datetime.date, windows: list[EpisodeWindow], lookback_days: int = 0) -> EpisodeWindow | None:
    """The episode whose window holds the day: from enrollment (less the lookback, for scores) to discharge.

    A day inside an episode proper wins over the screening lookback of the next one; where two
    episodes touch (discharged and enrolled again the same day), the later one.
    """
    within = [w for w in windows if w.enrolled_on <= day and (w.discharged_on is None or day <= w.discharged_on)]
    if within:
        return max(within, key=lambda w: w.enrolled_on)
    lookback = datetime.timedelta(days=lookback_days)
    screening = [w for w in windows if w.enrolled_on - lookback <= day < w.enrolled_on]
    return min(screening, key=lambda w: w.enrolled_on) if screening else None


def patient_rows_problems(rows: list[PatientRow]) -> list[RowError]:
    """Rows of one patient agree on who the patient is, and their episodes follow one another."""
    problems = []
    first = rows[0]
    for row in rows[1:]:
        for column in PATIENT_FIELDS:
            if getattr(row, column) != getattr(first, column):
                problems.append(RowError(PATIENTS, row.line, column, f"differs from line {first.line} (same patient)"))
    ordered = sorted(rows, key=lambda row: (row.enrolled_on, row.line))
    for earlier, later in pairwise(ordered):
        if later.enrolled_on == earlier.enrolled_on:
            message = f"line {earlier.line} has this patient's episode enrolled on {later.enrolled_on:%Y-%m-%d}"
            problems.append(RowError(PATIENTS, later.line, "enrolled_on", message))
        elif earlier.status != Episode.Status.DISCHARGED:
            message = f"only a patient's latest episode can be open; line {later.line} enrolls them again"
            problems.append(RowError(PATIENTS, earlier.line, "status", message))
        elif earlier.discharged_on > later.enrolled_on:
            message = f"before the discharge of the episode on line {earlier.line} ({earlier.discharged_on:%Y-%m-%d})"
            problems.append(RowError(PATIENTS, later.line, "enrolled_on", message))
    return problems


# --- The import --------------------------------------------------------------------------


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


def _chunks(values: list, size: int = 900) -> Iterable[list]:
    """Slices small enough for one IN (...) list on every database (SQLite caps query parameters)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


class _Refused(Exception):
    """A write refused by a service or the database; its rows are skipped, the import rolls back."""


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
    def __init__(self, *, by, today: datetime.date, progress: Progress | None = None):
        self.by = by
        self.today = today
        self.progress = progress
        self.checked = 0
        self.last_report = 0.0
        self.errors: list[RowError] = []
        self.created: Counter = Counter()
        self.present: Counter = Counter()
        self.rows_read: dict[str, int] = {}
        self.clinic_codes: set[str] = set()

    def result(self) -> ImportResult:
        ok = not self.errors
        return ImportResult(
            errors=[str(error) for error in sorted(self.errors, key=RowError.sort_key)],
            rows_read=self.rows_read,
            created=self.created if ok else Counter(),
            present=self.present if ok else Counter(),
            clinic_codes=sorted(self.clinic_codes),
        )

    def error(self, file: str, line: int | None, column: str, message: str) -> None:
        self.errors.append(RowError(file, line, column, message))

    def report(self, stage: str, *, at_once: bool = False) -> None:
        """Tell the progress callback how far the import is: at most once a second, unless at once."""
        now = time.monotonic()
        if self.progress is None or not (at_once or now - self.last_report >= PROGRESS_SECONDS):
            return
        self.last_report = now
        written = sum(self.present.values()) + sum(
            self.created[kind] for kind in ("episodes", "contacts", "measurements", "reviews")
        )
        self.progress(stage, self.checked, written)

    # Reading and checking every row, before anything is written.

    def run(self, files: Mapping[str, bytes | str | None]) -> None:
        raw = {}
        for name in FILES:
            if name in OPTIONAL_FILES and files.get(name) is None:
                raw[name] = []
                continue
            raw[name], errors = read_csv(name, files.get(name))
            self.errors += errors
            self.rows_read[name] = len(raw[name])
        refs = self._references(raw)
        parsed: dict[str, list] = {name: [] for name in FILES}
        unreadable_patients = set()
        for name in FILES:
            for line, fields in raw[name]:
                self.clinic_codes.add(fields.get("clinic", ""))
                row, problems = ROW_PARSERS[name](fields, line, refs=refs, today=self.today)
                for column, message in problems:
                    self.error(name, line, column, message)
                if row is not None:
                    parsed[name].append(row)
                elif name == PATIENTS:
                    unreadable_patients.add((fields.get("clinic", ""), fields.get("mrn", "")))
                self.checked += 1
                self.report("checking")
        self.report("checking", at_once=True)
        self.clinic_codes &= set(refs.clinics)
        self._write(parsed, refs, skip=unreadable_patients)
        self.report("writing", at_once=True)

    def _references(self, raw: dict[str, list]) -> References:
        codes = {fields.get("clinic", "") for rows in raw.values() for _, fields in rows}
        usernames = {fields.get(column, "") for _, fields in raw[PATIENTS] for column in CARE_TEAM_ROLES}
        usernames |= {fields.get("consultant", "") for _, fields in raw[REVIEWS]}
        usernames -= {""}
        staff = User.objects.filter(username__in=usernames).prefetch_related("clinics")
        clinics = Clinic.objects.filter(code__in=codes).select_related("registry_settings")
        return References(
            clinics={clinic.code: clinic for clinic in clinics},
            baseline_lookback_days={
                clinic.code: RegistrySettings.for_clinic(clinic).baseline_lookback_days for clinic in clinics
            },
            allowed_clinics=set(self.by.visible_clinics().filter(code__in=codes).values_list("code", flat=True)),
            staff={user.username: user for user in staff},
            staff_clinics={user.username: {clinic.code for clinic in user.clinics.all()} for user in staff},
        )

    # Writing, patient by patient.

    def _write(self, parsed: dict[str, list], refs: References, *, skip: set) -> None:
        by_patient: dict[tuple, dict[str, list]] = defaultdict(lambda: {name: [] for name in FILES})
        for name in FILES:
            for row in parsed[name]:
                by_patient[row.key][name].append(row)
        # Imports into the same clinic wait for one another rather than race to create the same rows.
        list(Clinic.objects.select_for_update().filter(code__in=self.clinic_codes).order_by("pk"))
        existing = self._existing(by_patient.keys(), reviews=bool(parsed[REVIEWS]))
        for key, rows in by_patient.items():
            if key in skip:
                continue  # the patient's own row is unreadable: its contacts and scores cannot be placed
            self._import_patient(key, rows, refs, existing)
            self.report("writing")

    def _existing(self, keys: Iterable[tuple], *, reviews: bool = False) -> dict:
        """What the registry holds already of these patients, read in a few chunked queries."""
        keys = set(keys)
        codes = {code for code, _ in keys}
        patients = {}
        for mrns in _chunks(sorted({mrn for _, mrn in keys})):
            for p in Patient.objects.filter(clinic__code__in=codes, mrn__in=mrns).select_related("clinic"):
                if (p.clinic.code, p.mrn) in keys:
                    patients[(p.clinic.code, p.mrn)] = p
        episodes = defaultdict(list)
        for ids in _chunks([p.pk for p in patients.values()]):
            for episode in Episode.objects.filter(patient_id__in=ids).order_by("enrolled_on"):
                episodes[episode.patient_id].append(episode)
        episode_ids = [e.pk for es in episodes.values() for e in es]
        # Rows marked entered in error count too: an import must not bring back what a clinician struck out.
        contact_keys, measurement_keys, review_keys = Counter(), Counter(), Counter()
        for ids in _chunks(episode_ids):
            contact_keys.update(
                Contact.objects.filter(episode_id__in=ids).values_list(
                    "episode_id", "contact_date", "kind", "mode", "minutes", "reached"
                )
            )
            measurement_keys.update(
                Measurement.objects.filter(episode_id__in=ids).values_list(
                    "episode_id", "taken_on", "instrument", "total"
                )
            )
            if reviews:  # signed reviews only: a draft may still change, and does not count until signed
                review_keys.update(
                    CaseReview.objects.filter(episode_id__in=ids, signed_at__isnull=False).values_list(
                        "episode_id", "reviewed_on", "consultant__username", "assessment"
                    )
                )
        return {
            "patients": patients,
            "episodes": episodes,
            "contacts": contact_keys,
            "measurements": measurement_keys,
            "reviews": review_keys,
        }

    def _import_patient(self, key: tuple, rows: dict[str, list], refs: References, existing: dict) -> None:
        patient = existing["patients"].get(key)
        patient_rows = sorted(rows[PATIENTS], key=lambda row: row.enrolled_on)
        problems = patient_rows_problems(patient_rows) if patient_rows else []
        if patient is not None and patient_rows:
            problems += self._identity_problems(patient, patient_rows[0])
        self.errors += problems
        if problems:
            return
        if patient is None and not patient_rows:
            for name in (CONTACTS, MEASUREMENTS, REVIEWS):
                for row in rows[name]:
                    message = f"no patient with MRN {row.mrn} at clinic {row.clinic!r} in {PATIENTS} or the registry"
                    self.error(name, row.line, "mrn", message)
            return
        windows = self._windows(existing["episodes"].get(patient.pk, []) if patient else [], patient_rows)
        if not self._place(rows, windows, score_lookback=refs.baseline_lookback_days[key[0]]):
            return
        if patient is not None and patient_rows:
            self._update_care_team(patient, patient_rows[-1], refs)
        for window in windows:
            patient = self._episode(patient, window, refs)
            if window.failed:
                return  # later episodes depend on this one (enrollment order, discharge before re-enrollment)
            self._contacts(window, existing["contacts"])
            self._measurements(window, existing["measurements"])
            self._reviews(window, existing["reviews"], refs)
            if window.row is not None and not self._status(window):
                return

    @staticmethod
    def _identity_problems(patient: Patient, row: PatientRow) -> list[RowError]:
        problems = []
        for column in IDENTITY_FIELDS:
            ours, theirs = getattr(patient, column), getattr(row, column)
            if isinstance(ours, str):
                ours, theirs = ours.strip().casefold(), theirs.casefold()
            if ours != theirs:
                message = (
                    f"MRN {row.mrn} at clinic {row.clinic!r} is registered with a different {column}: check the MRN"
                )
                problems.append(RowError(PATIENTS, row.line, column, message))
        return problems

    @staticmethod
    def _windows(episodes: list[Episode], rows: list[PatientRow]) -> list[EpisodeWindow]:
        windows = {e.enrolled_on: EpisodeWindow(e.enrolled_on, e.discharged_on, episode=e) for e in episodes}
        for row in rows:
            window = windows.setdefault(row.enrolled_on, EpisodeWindow(row.enrolled_on, row.discharged_on))
            window.row = row
            if window.discharged_on is None:
                window.discharged_on = row.discharged_on
        return sorted(windows.values(), key=lambda w: w.enrolled_on)

    def _place(self, rows: dict[str, list], windows: list[EpisodeWindow], *, score_lookback: int) -> bool:
        """Put each contact, score and review in the episode whose window holds its date."""
        placed = True
        for name, lookback in ((CONTACTS, 0), (MEASUREMENTS, score_lookback), (REVIEWS, 0)):
            for row in rows[name]:
                window = episode_for(row.date, windows, lookback)
                if window is None:
                    episodes = "; ".join(w.describe() for w in windows) or "none"
                    before = f", or up to {lookback} days before one" if lookback else ""
                    message = f"{row.date:%Y-%m-%d} is in no episode of this patient{before} (episodes: {episodes})"
                    self.error(name, row.line, "date", message)
                    placed = False
                elif name == CONTACTS:
                    window.contacts.append(row)
                elif name == MEASUREMENTS:
                    window.measurements.append(row)
                else:
                    window.reviews.append(row)
        return placed

    def _savepoint(self, file: str, line: int, default_column: str, columns: Mapping[str, str], write: Callable):
        """Run one write in its own savepoint; a refusal becomes an error on the row's line."""
        try:
            with transaction.atomic():
                return write()
        except ValidationError as error:
            messages = error.message_dict.items() if hasattr(error, "error_dict") else [(None, error.messages)]
            for name, texts in messages:
                for text in texts:
                    self.error(file, line, columns.get(name, default_column), text.rstrip("."))
        except (IntegrityError, DataError) as error:
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            self.error(file, line, default_column, f"refused by the database: {first_line}")
        raise _Refused

    def _update_care_team(self, patient: Patient, row: PatientRow, refs: References) -> None:
        """A known patient's sex and care team follow the file; an empty care team cell changes nothing."""
        changes = {"sex": row.sex} if patient.sex != row.sex else {}
        for column in CARE_TEAM_ROLES:
            member = refs.staff.get(getattr(row, column))
            if member is not None and getattr(patient, f"{column}_id") != member.pk:
                changes[column] = member
        if changes:
            columns = {name: name for name in changes}
            try:
                self._savepoint(
                    PATIENTS,
                    row.line,
                    "mrn",
                    columns,
                    lambda: patient_services.update_patient(patient=patient, by=self.by, **changes),
                )
                self.created["patients_updated"] += 1
            except _Refused:
                pass

    def _episode(self, patient: Patient | None, window: EpisodeWindow, refs: References) -> Patient | None:
        """The window's episode: found in the registry, or made by enrollment (a first or a new episode)."""
        row = window.row
        if window.episode is not None:
            if row is not None:
                self.present["episodes"] += 1
            return patient
        columns = {"mrn": "mrn", "enrolled_on": "enrolled_on", **{c: c for c in CARE_TEAM_ROLES}}
        try:
            if patient is None:
                patient = self._savepoint(
                    PATIENTS,
                    row.line,
                    "enrolled_on",
                    columns,
                    lambda: patient_services.enroll_patient(
                        clinic=refs.clinics[row.clinic],
                        enrolled_on=row.enrolled_on,
                        by=self.by,
                        mrn=row.mrn,
                        first_name=row.first_name,
                        last_name=row.last_name,
                        birth_date=row.birth_date,
                        sex=row.sex,
                        **{column: refs.staff.get(getattr(row, column)) for column in CARE_TEAM_ROLES},
                    ),
                )
                self.created["patients"] += 1
                window.episode = patient.episodes.get()
            else:
                window.episode = self._savepoint(
                    PATIENTS,
                    row.line,
                    "enrolled_on",
                    columns,
                    lambda: patient_services.start_episode(patient=patient, enrolled_on=row.enrolled_on, by=self.by),
                )
        except _Refused:
            window.failed = True
            return patient
        self.created["episodes"] += 1
        return patient

    def _contacts(self, window: EpisodeWindow, known: Counter) -> None:
        columns = {"contact_date": "date", "next_contact_on": "next_contact_on", "minutes": "minutes"}
        for row in sorted(window.contacts, key=lambda row: (row.date, row.line)):
            key = row.match_key(window.episode.pk)
            if known[key] > 0:
                known[key] -= 1
                self.present["contacts"] += 1
                continue
            if not self._can_add_to(window, CONTACTS, row.line):
                continue
            try:
                self._savepoint(
                    CONTACTS,
                    row.line,
                    "date",
                    columns,
                    lambda row=row: services.record_contact(
                        episode=window.episode,
                        by=self.by,
                        contact_date=row.date,
                        kind=row.kind,
                        mode=row.mode,
                        reached=row.reached,
                        minutes=row.minutes,
                        interventions=row.interventions,
                        note=row.note,
                        next_contact_on=row.next_contact_on,
                    ),
                )
            except _Refused:
                continue
            self.created["contacts"] += 1

    def _measurements(self, window: EpisodeWindow, known: Counter) -> None:
        for row in sorted(window.measurements, key=lambda row: (row.date, row.line)):
            key = row.match_key(window.episode.pk)
            if known[key] > 0:
                known[key] -= 1
                self.present["measurements"] += 1
                continue
            if not self._can_add_to(window, MEASUREMENTS, row.line):
                continue
            try:
                self._savepoint(
                    MEASUREMENTS, row.line, "items" if row.items else "total", {}, self._scorer(window, row)
                )
            except _Refused:
                continue
            self.created["measurements"] += 1

    def _scorer(self, window: EpisodeWindow, row: MeasurementRow) -> Callable:
        if row.items is None:
            return lambda: services.record_total_only_measurement(
                episode=window.episode, instrument_code=row.instrument, total=row.total, taken_on=row.date, by=self.by
            )
        return lambda: services.record_measurement(
            episode=window.episode,
            answers=services.Answers(row.instrument, list(row.items)),
            taken_on=row.date,
            by=self.by,
            source=Measurement.Source.IMPORT,
        )

    def _reviews(self, window: EpisodeWindow, known: Counter, refs: References) -> None:
        """Each review signed at once by its consultant, recorded by the importer, before the status is applied."""
        columns = {"reviewed_on": "date", "consultant": "consultant", "summary": "note", "assessment": "note"}
        for row in sorted(window.reviews, key=lambda row: (row.date, row.line)):
            key = row.match_key(window.episode.pk)
            if known[key] > 0:
                known[key] -= 1
                self.present["reviews"] += 1
                continue
            if not self._can_add_to(window, REVIEWS, row.line):
                continue
            try:
                self._savepoint(
                    REVIEWS,
                    row.line,
                    "date",
                    columns,
                    lambda row=row: consult_services.record_case_review(
                        episode=window.episode,
                        reviewed_on=row.date,
                        consultant=refs.staff[row.consultant],
                        summary=row.note,
                        by=self.by,
                    ),
                )
            except _Refused:
                continue
            self.created["reviews"] += 1

    def _can_add_to(self, window: EpisodeWindow, name: str, line: int) -> bool:
        """New care goes only into episodes still open in the registry (the import discharges after adding)."""
        if window.episode.is_open:
            return True
        what = {CONTACTS: "contacts", MEASUREMENTS: "scores", REVIEWS: "case reviews"}[name]
        message = (
            f"the episode enrolled on {window.enrolled_on:%Y-%m-%d} is discharged in the registry "
            f"({window.episode.discharged_on:%Y-%m-%d}); new {what} cannot be added to it"
        )
        self.error(name, line, "date", message)
        return False

    def _status(self, window: EpisodeWindow) -> bool:
        row = window.row
        columns = {"discharged_on": "discharged_on"}
        try:
            self._savepoint(PATIENTS, row.line, "status", columns, lambda: self._apply_status(window.episode, row))
        except _Refused:
            return False
        return True

    def _apply_status(self, episode: Episode, row: PatientRow) -> None:
        """The file's status, after its contacts, scores and reviews (a discharged episode takes no new care).

        Imported history has no dates for status changes other than discharge, and may skip
        steps the app walks through one at a time, so this writes the status directly rather
        than through change_status; it never reopens a discharge nor undoes an initial assessment.
        """
        refresh_summary(episode)  # its contacts and scores are in; summaries wait for the end otherwise
        episode.refresh_from_db()
        wanted = row.status
        if episode.status == Episode.Status.DISCHARGED:
            if (wanted, row.discharged_on, row.discharge_reason) != (
                episode.status,
                episode.discharged_on,
                episode.discharge_reason,
            ):
                raise ValidationError(
                    f"the registry has this episode discharged on {episode.discharged_on:%Y-%m-%d} "
                    f"({episode.discharge_reason}); an import does not change a discharge"
                )
            return
        if wanted == episode.status:
            return
        if wanted == Episode.Status.ENROLLED:
            because = (
                f": it has a completed initial assessment on {episode.initial_assessment_on:%Y-%m-%d}"
                if episode.initial_assessment_on
                else ""
            )
            raise ValidationError(f"enrolled, but the episode is already {episode.status}{because}")
        if wanted == Episode.Status.DISCHARGED:
            self._check_nothing_after(episode, row.discharged_on)
            episode.discharged_on, episode.discharge_reason = row.discharged_on, row.discharge_reason
            episode.status_changed_on = row.discharged_on
        else:
            # No date for this change in the file: the last the import knows of the episode.
            episode.status_changed_on = episode.last_contact_on or episode.enrolled_on
        episode.status = wanted
        episode._history_user = self.by
        episode.save(update_fields=["status", "status_changed_on", "discharged_on", "discharge_reason"])
        services.queue_flag_refresh(episode)  # as change_status does: the rule flags follow the new status

    @staticmethod
    def _check_nothing_after(episode: Episode, discharged_on: datetime.date) -> None:
        last_contact = episode.contacts.valid().aggregate(last=Max("contact_date"))["last"]
        last_score = episode.measurements.valid().aggregate(last=Max("taken_on"))["last"]
        for what, day in (("contact", last_contact), ("score", last_score)):
            if day and day > discharged_on:
                raise ValidationError(
                    {"discharged_on": f"{discharged_on:%Y-%m-%d} is before the episode's {what} on {day:%Y-%m-%d}"}
                )
