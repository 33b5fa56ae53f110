"""The rows matched to the registry: the clinics and staff they name, the patient each belongs
to (in the files, in the registry, or both) and the episode whose window holds each contact,
score and review; duplicates within the upload and rows that agree with nothing are errors.

The registry is read here, in a few chunked queries, under the clinics' lock; deciding where a
row goes is pure (episode_for, patient_rows_problems, place_patient).
"""

import datetime
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

from accounts.models import Clinic, User
from consults.models import CaseReview
from interchange.importing.columns import CONTACTS, FILES, MEASUREMENTS, PATIENTS, REVIEWS, RowError, Rows
from interchange.importing.parsing import ContactRow, MeasurementRow, PatientRow, References, ReviewRow, Row
from patients.models import Episode, Patient
from patients.services import CARE_TEAM_ROLES
from registry.models import Contact, Measurement, RegistrySettings

# Patient fields that must agree on every row (episode) of the same patient.
PATIENT_FIELDS = ("first_name", "last_name", "birth_date", "sex", "care_manager", "psychiatric_consultant", "pcp")
# A different name or birth date under a known MRN is most likely the wrong patient, not an update.
IDENTITY_FIELDS = ("first_name", "last_name", "birth_date")
PatientKey = tuple[str, str]  # (clinic code, MRN)


# --- What the rows name, and what the registry holds already -----------------------------


def load_references(raw: dict[str, Rows], *, by) -> References:
    """The clinics and staff the rows name, and which of the clinics `by` may import into."""
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
        allowed_clinics=set(by.visible_clinics().filter(code__in=codes).values_list("code", flat=True)),
        staff={user.username: user for user in staff},
        staff_clinics={user.username: {clinic.code for clinic in user.clinics.all()} for user in staff},
    )


@dataclass
class Existing:
    """What the registry holds already of the imported patients. The match keys count each
    row, so a row in the files twice matches two rows in the registry, not one."""

    patients: dict[PatientKey, Patient] = field(default_factory=dict)
    episodes: dict[int, list[Episode]] = field(default_factory=lambda: defaultdict(list))
    contacts: Counter = field(default_factory=Counter)
    measurements: Counter = field(default_factory=Counter)
    reviews: Counter = field(default_factory=Counter)


def _chunks(values: list, size: int = 900) -> Iterable[list]:
    """Slices small enough for one IN (...) list on every database (SQLite caps query parameters)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def load_existing(keys: Iterable[PatientKey], *, clinic_codes: Iterable[str], reviews: bool = False) -> Existing:
    """The registry's rows of these patients, read after locking their clinics: imports into the
    same clinic wait for one another rather than race to create the same rows, so what is read
    here stays true until the import's transaction ends."""
    list(Clinic.objects.select_for_update().filter(code__in=set(clinic_codes)).order_by("pk"))
    keys = set(keys)
    codes = {code for code, _ in keys}
    existing = Existing()
    for mrns in _chunks(sorted({mrn for _, mrn in keys})):
        for p in Patient.objects.filter(clinic__code__in=codes, mrn__in=mrns).select_related("clinic"):
            if (p.clinic.code, p.mrn) in keys:
                existing.patients[(p.clinic.code, p.mrn)] = p
    for ids in _chunks([p.pk for p in existing.patients.values()]):
        for episode in Episode.objects.filter(patient_id__in=ids).order_by("enrolled_on"):
            existing.episodes[episode.patient_id].append(episode)
    episode_ids = [e.pk for es in existing.episodes.values() for e in es]
    # Rows marked entered in error count too: an import must not bring back what a clinician struck out.
    for ids in _chunks(episode_ids):
        existing.contacts.update(
            Contact.objects.filter(episode_id__in=ids).values_list(
                "episode_id", "contact_date", "kind", "mode", "minutes", "reached"
            )
        )
        existing.measurements.update(
            Measurement.objects.filter(episode_id__in=ids).values_list("episode_id", "taken_on", "instrument", "total")
        )
        if reviews:  # signed reviews only: a draft may still change, and does not count until signed
            existing.reviews.update(
                CaseReview.objects.filter(episode_id__in=ids, signed_at__isnull=False).values_list(
                    "episode_id", "reviewed_on", "consultant__username", "assessment"
                )
            )
    return existing


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
        elif earlier.discharged_on is None:  # parsing requires the date of a discharged episode
            raise ValueError(f"{PATIENTS} line {earlier.line}: discharged without a discharge date")
        elif earlier.discharged_on > later.enrolled_on:
            message = f"before the discharge of the episode on line {earlier.line} ({earlier.discharged_on:%Y-%m-%d})"
            problems.append(RowError(PATIENTS, later.line, "enrolled_on", message))
    return problems


def identity_problems(patient: Patient, row: PatientRow) -> list[RowError]:
    """The file's patient is the registry's patient of that MRN: same name and birth date."""
    problems = []
    for column in IDENTITY_FIELDS:
        ours, theirs = getattr(patient, column), getattr(row, column)
        if isinstance(ours, str):
            ours, theirs = ours.strip().casefold(), theirs.casefold()
        if ours != theirs:
            message = f"MRN {row.mrn} at clinic {row.clinic!r} is registered with a different {column}: check the MRN"
            problems.append(RowError(PATIENTS, row.line, column, message))
    return problems


def windows_of(episodes: list[Episode], rows: list[PatientRow]) -> list[EpisodeWindow]:
    """The patient's episodes in enrollment order: the registry's, each matched to the file's
    row of the same enrollment date, and the file's new ones."""
    windows = {e.enrolled_on: EpisodeWindow(e.enrolled_on, e.discharged_on, episode=e) for e in episodes}
    for row in rows:
        window = windows.setdefault(row.enrolled_on, EpisodeWindow(row.enrolled_on, row.discharged_on))
        window.row = row
        if window.discharged_on is None:
            window.discharged_on = row.discharged_on
    return sorted(windows.values(), key=lambda w: w.enrolled_on)


def place_rows(rows: dict[str, list[Row]], windows: list[EpisodeWindow], *, score_lookback: int) -> list[RowError]:
    """Put each contact, score and review in the episode whose window holds its date."""
    problems = []
    for name, lookback in ((CONTACTS, 0), (MEASUREMENTS, score_lookback), (REVIEWS, 0)):
        for row in rows[name]:
            if isinstance(row, PatientRow):  # each file's rows are of its parser's kind (parsing.ROW_PARSERS)
                raise TypeError(f"a {PATIENTS} row among the rows of {name}, line {row.line}")
            window = episode_for(row.date, windows, lookback)
            if window is None:
                episodes = "; ".join(w.describe() for w in windows) or "none"
                before = f", or up to {lookback} days before one" if lookback else ""
                message = f"{row.date:%Y-%m-%d} is in no episode of this patient{before} (episodes: {episodes})"
                problems.append(RowError(name, row.line, "date", message))
            elif isinstance(row, ContactRow):
                window.contacts.append(row)
            elif isinstance(row, MeasurementRow):
                window.measurements.append(row)
            else:
                window.reviews.append(row)
    return problems


# --- Each patient's plan -----------------------------------------------------------------


@dataclass
class PatientPlan:
    """One patient's rows, placed: what the writing stage writes, episode by episode."""

    key: PatientKey
    patient: Patient | None  # None: a new patient, enrolled from the first of rows
    rows: list[PatientRow]  # the patient's rows in patients.csv, by enrollment date
    windows: list[EpisodeWindow]


def group_by_patient(parsed: dict[str, list[Row]]) -> dict[PatientKey, dict[str, list[Row]]]:
    by_patient: dict[PatientKey, dict[str, list[Row]]] = defaultdict(lambda: {name: [] for name in FILES})
    for name in FILES:
        for row in parsed[name]:
            by_patient[row.key][name].append(row)
    return by_patient


def _patient_rows(rows: dict[str, list[Row]]) -> list[PatientRow]:
    """The rows of patients.csv, each a PatientRow as its parser made it (parsing.ROW_PARSERS)."""
    patient_rows = []
    for row in rows[PATIENTS]:
        if not isinstance(row, PatientRow):
            raise TypeError(f"a {type(row).__name__} among the rows of {PATIENTS}, line {row.line}")
        patient_rows.append(row)
    return patient_rows


def place_patient(
    key: PatientKey, rows: dict[str, list[Row]], existing: Existing, refs: References
) -> tuple[PatientPlan | None, list[RowError]]:
    """The patient's plan, or why their rows cannot be placed."""
    patient = existing.patients.get(key)
    patient_rows = sorted(_patient_rows(rows), key=lambda row: row.enrolled_on)
    problems = patient_rows_problems(patient_rows) if patient_rows else []
    if patient is not None and patient_rows:
        problems += identity_problems(patient, patient_rows[0])
    if problems:
        return None, problems
    if patient is None and not patient_rows:
        for name in (CONTACTS, MEASUREMENTS, REVIEWS):
            for row in rows[name]:
                message = f"no patient with MRN {row.mrn} at clinic {row.clinic!r} in {PATIENTS} or the registry"
                problems.append(RowError(name, row.line, "mrn", message))
        return None, problems
    windows = windows_of(existing.episodes.get(patient.pk, []) if patient else [], patient_rows)
    problems = place_rows(rows, windows, score_lookback=refs.baseline_lookback_days[key[0]])
    if problems:
        return None, problems
    return PatientPlan(key=key, patient=patient, rows=patient_rows, windows=windows), []
