"""Each row's text into typed values, or its row-level errors: dates, codes, item answers.

Pure: a function of the row's text and of lookup tables loaded once (References), so each
column's rule is tested without a database. Instruments are looked up in
registry.scoring.INSTRUMENTS when a row is read, so an instrument added there imports without
a change here.
"""

import datetime
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from accounts.models import Clinic, Role, User
from interchange.importing.columns import CONTACTS, MEASUREMENTS, PATIENTS, REVIEWS
from patients.models import Episode, Sex
from patients.services import CARE_TEAM_ROLES
from registry import scoring
from registry.models import MAX_CONTACT_MINUTES, Contact, Intervention

STATUSES = ("enrolled", "active", "relapse_prevention", "discharged")
EARLIEST_BIRTH_DATE = datetime.date(1900, 1, 1)
MAX_LENGTHS = {"mrn": 32, "first_name": 100, "last_name": 100}
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class FieldError(ValueError):
    """A value that cannot be read; the message says what is wrong with it."""


# --- One value ---------------------------------------------------------------------------


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


def parse_items(text: str, instrument: scoring.Instrument) -> tuple[int, ...]:
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


# --- Rows --------------------------------------------------------------------------------


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
    """What rows name, looked up once (placement.load_references): clinics by code and staff by username."""

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
Row = PatientRow | ContactRow | MeasurementRow | ReviewRow
Parsers = dict[str, Callable[[str], object]]
T = TypeVar("T")


def _read_columns(fields: Mapping[str, str], parsers: Parsers) -> tuple[Parsed, Problems]:
    values: Parsed = {}
    problems: Problems = []
    for column, parse in parsers.items():
        try:
            values[column] = parse(fields.get(column, ""))
        except FieldError as error:
            problems.append((column, str(error)))
    return values, problems


def _value(values: Parsed, column: str, kind: type[T]) -> T:
    """A column's value once the row has no problems: every column was read, by a parser that
    returns a `kind`."""
    value = values[column]
    if not isinstance(value, kind):
        raise TypeError(f"{column} was read as {type(value).__name__}, not {kind.__name__}")
    return value


def _optional_value(values: Parsed, column: str, kind: type[T]) -> T | None:
    """As _value, for a column whose parser returns None when it is empty."""
    return None if values[column] is None else _value(values, column, kind)


def _key_columns(refs: References) -> Parsers:
    return {
        "mrn": lambda text: parse_text(text, max_length=MAX_LENGTHS["mrn"]),
        "clinic": refs.check_clinic,
    }


def parse_patient_row(
    fields: Mapping[str, str], line: int, *, refs: References, today: datetime.date
) -> tuple[PatientRow | None, Problems]:
    # Care team membership is checked against the row's clinic once that clinic is known.
    clinic = fields.get("clinic", "") if fields.get("clinic", "") in refs.clinics else None
    parsers: Parsers = {
        **_key_columns(refs),
        "first_name": lambda text: parse_text(text, max_length=MAX_LENGTHS["first_name"]),
        "last_name": lambda text: parse_text(text, max_length=MAX_LENGTHS["last_name"]),
        "birth_date": lambda text: _birth_date(text, today),
        "sex": lambda text: parse_choice(text, Sex.values),
        **{column: _staff_column(refs, column, clinic) for column in CARE_TEAM_ROLES},
        "enrolled_on": lambda text: parse_date(text, today=today),
        "status": lambda text: parse_choice(text, STATUSES),
        "discharged_on": lambda text: parse_optional_date(text, today=today),
        "discharge_reason": lambda text: parse_choice(text, Episode.DischargeReason.values) if text else "",
    }
    values, problems = _read_columns(fields, parsers)
    problems += _discharge_problems(values, fields)
    if problems:
        return None, problems
    return PatientRow(
        line=line,
        mrn=_value(values, "mrn", str),
        clinic=_value(values, "clinic", str),
        first_name=_value(values, "first_name", str),
        last_name=_value(values, "last_name", str),
        birth_date=_value(values, "birth_date", datetime.date),
        sex=_value(values, "sex", str),
        care_manager=_value(values, "care_manager", str),
        psychiatric_consultant=_value(values, "psychiatric_consultant", str),
        pcp=_value(values, "pcp", str),
        enrolled_on=_value(values, "enrolled_on", datetime.date),
        status=_value(values, "status", str),
        discharged_on=_optional_value(values, "discharged_on", datetime.date),
        discharge_reason=_value(values, "discharge_reason", str),
    ), []


def _staff_column(refs: References, column: str, clinic: str | None) -> Callable[[str], str]:
    return lambda text: refs.check_staff(text, column, clinic)


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
    if (
        discharged
        and isinstance(discharged_on, datetime.date)
        and isinstance(enrolled_on, datetime.date)
        and discharged_on < enrolled_on
    ):
        problems.append(("discharged_on", f"{discharged_on:%Y-%m-%d} is before enrolled_on ({enrolled_on:%Y-%m-%d})"))
    return problems


def parse_contact_row(
    fields: Mapping[str, str], line: int, *, refs: References, today: datetime.date
) -> tuple[ContactRow | None, Problems]:
    parsers: Parsers = {
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
    if isinstance(day, datetime.date) and isinstance(next_on, datetime.date) and next_on < day:
        problems.append(("next_contact_on", f"{next_on:%Y-%m-%d} is before the contact date ({day:%Y-%m-%d})"))
    if problems:
        return None, problems
    return ContactRow(
        line=line,
        mrn=_value(values, "mrn", str),
        clinic=_value(values, "clinic", str),
        date=_value(values, "date", datetime.date),
        kind=_value(values, "kind", str),
        mode=_value(values, "mode", str),
        reached=_value(values, "reached", bool),
        minutes=_value(values, "minutes", int),
        interventions=_value(values, "interventions", tuple),
        next_contact_on=_optional_value(values, "next_contact_on", datetime.date),
        note=_value(values, "note", str),
    ), []


def parse_measurement_row(
    fields: Mapping[str, str], line: int, *, refs: References, today: datetime.date
) -> tuple[MeasurementRow | None, Problems]:
    instruments = scoring.INSTRUMENTS
    parsers: Parsers = {
        **_key_columns(refs),
        "date": lambda text: parse_date(text, today=today),
        "instrument": lambda text: parse_choice(text, instruments),
    }
    values, problems = _read_columns(fields, parsers)
    items_text, total_text = fields.get("items", ""), fields.get("total", "")
    code = values.get("instrument")
    instrument = instruments.get(code) if isinstance(code, str) else None
    if items_text and total_text:
        problems.append(("total", "give the items or, when they are unknown, the total: not both"))
    elif not items_text and not total_text:
        problems.append(("items", "required: the answers separated by spaces (or a total when they are unknown)"))
    elif instrument is not None:
        try:
            if items_text:
                items = parse_items(items_text, instrument)
                values["items"], values["total"] = items, sum(items)
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
    return MeasurementRow(
        line=line,
        mrn=_value(values, "mrn", str),
        clinic=_value(values, "clinic", str),
        date=_value(values, "date", datetime.date),
        instrument=_value(values, "instrument", str),
        items=_optional_value(values, "items", tuple),
        total=_value(values, "total", int),
    ), []


def parse_review_row(
    fields: Mapping[str, str], line: int, *, refs: References, today: datetime.date
) -> tuple[ReviewRow | None, Problems]:
    clinic = fields.get("clinic", "") if fields.get("clinic", "") in refs.clinics else None
    parsers: Parsers = {
        **_key_columns(refs),
        "date": lambda text: parse_date(text, today=today),
        "consultant": lambda text: refs.check_staff(parse_required(text), "psychiatric_consultant", clinic, past=True),
        "note": parse_required,
    }
    values, problems = _read_columns(fields, parsers)
    if problems:
        return None, problems
    return ReviewRow(
        line=line,
        mrn=_value(values, "mrn", str),
        clinic=_value(values, "clinic", str),
        date=_value(values, "date", datetime.date),
        consultant=_value(values, "consultant", str),
        note=_value(values, "note", str),
    ), []


ROW_PARSERS = {
    PATIENTS: parse_patient_row,
    CONTACTS: parse_contact_row,
    MEASUREMENTS: parse_measurement_row,
    REVIEWS: parse_review_row,
}
