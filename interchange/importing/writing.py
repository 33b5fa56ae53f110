"""The import's writes, patient by patient, inside the import's one transaction, every one
through the apps' services with the importing person as the actor: enroll_patient,
start_episode, update_patient and record_imported_status (patients), record_contact,
record_measurement and record_total_only_measurement (registry), record_case_review
(consults). So scoring, the PHQ-9 item-9 safety flag, history, summaries and flags happen
exactly as when a care manager types the data in.

Each write runs in its own savepoint, so one refused row neither stops the others from being
checked nor poisons a PostgreSQL transaction; a refusal becomes an error on the row's line,
and the caller rolls the whole import back. A row the registry holds already is counted as
present and not written again.
"""

from collections import Counter
from collections.abc import Callable, Mapping
from functools import partial
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction

from accounts.models import User
from consults import services as consult_services
from interchange.importing.columns import CONTACTS, MEASUREMENTS, PATIENTS, REVIEWS, RowError
from interchange.importing.parsing import MeasurementRow, PatientRow, References
from interchange.importing.placement import EpisodeWindow, Existing, PatientPlan
from patients import services as patient_services
from patients.models import Episode, Patient
from patients.services import CARE_TEAM_ROLES
from registry import services
from registry.models import Measurement
from registry.summaries import refresh_summary

T = TypeVar("T")


class _Refused(Exception):
    """A write refused by a service or the database; its rows are skipped, the import rolls back."""


class Writer:
    def __init__(self, *, by, refs: References, existing: Existing, errors: list[RowError]):
        self.by = by
        self.refs = refs
        self.existing = existing
        self.errors = errors  # the import's list: a refused write adds to it
        # patients, patients_updated, episodes, contacts, measurements, reviews
        self.created: Counter = Counter()
        self.present: Counter = Counter()  # episodes, contacts, measurements, reviews

    @property
    def written(self) -> int:
        """Rows written or found present: episodes, contacts, scores and reviews."""
        return sum(self.present.values()) + sum(
            self.created[kind] for kind in ("episodes", "contacts", "measurements", "reviews")
        )

    def error(self, file: str, line: int | None, column: str, message: str) -> None:
        self.errors.append(RowError(file, line, column, message))

    def write(self, plan: PatientPlan) -> None:
        """The patient's episodes in enrollment order, each with its care before its status."""
        patient = plan.patient
        if patient is not None and plan.rows:
            self._update_care_team(patient, plan.rows[-1])
        for window in plan.windows:
            patient = self._episode(patient, window)
            if window.failed:
                return  # later episodes depend on this one (enrollment order, discharge before re-enrollment)
            self._contacts(window)
            self._measurements(window)
            self._reviews(window)
            if window.row is not None and not self._status(window, window.row):
                return

    def _savepoint(
        self, file: str, line: int, default_column: str, columns: Mapping[str, str], write: Callable[[], T]
    ) -> T:
        """Run one write in its own savepoint; a refusal becomes an error on the row's line."""
        try:
            with transaction.atomic():
                return write()
        except ValidationError as error:
            messages = error.message_dict.items() if hasattr(error, "error_dict") else [(None, error.messages)]
            for name, texts in messages:
                for text in texts:
                    column = default_column if name is None else columns.get(name, default_column)
                    self.error(file, line, column, text.rstrip("."))
        except (IntegrityError, DataError) as error:
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            self.error(file, line, default_column, f"refused by the database: {first_line}")
        raise _Refused

    def _update_care_team(self, patient: Patient, row: PatientRow) -> None:
        """A known patient's sex and care team follow the file; an empty care team cell changes nothing."""
        changes: dict[str, str | User] = {"sex": row.sex} if patient.sex != row.sex else {}
        for column in CARE_TEAM_ROLES:
            member = self.refs.staff.get(getattr(row, column))
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
                    lambda: patient_services.update_patient(patient=patient, by=self.by, version=None, **changes),
                )
                self.created["patients_updated"] += 1
            except _Refused:
                pass

    def _episode(self, patient: Patient | None, window: EpisodeWindow) -> Patient | None:
        """The window's episode: found in the registry, or made by enrollment (a first or a new episode)."""
        row = window.row
        if window.episode is not None:
            if row is not None:
                self.present["episodes"] += 1
            return patient
        if row is None:  # windows_of makes a window without a registry episode only from a file row
            raise ValueError(
                f"the episode enrolled on {window.enrolled_on:%Y-%m-%d} is neither in the registry nor in {PATIENTS}"
            )
        columns = {"mrn": "mrn", "enrolled_on": "enrolled_on", **{c: c for c in CARE_TEAM_ROLES}}
        try:
            if patient is None:
                patient = self._savepoint(
                    PATIENTS,
                    row.line,
                    "enrolled_on",
                    columns,
                    lambda: patient_services.enroll_patient(
                        clinic=self.refs.clinics[row.clinic],
                        enrolled_on=row.enrolled_on,
                        by=self.by,
                        mrn=row.mrn,
                        first_name=row.first_name,
                        last_name=row.last_name,
                        birth_date=row.birth_date,
                        sex=row.sex,
                        **{column: self.refs.staff.get(getattr(row, column)) for column in CARE_TEAM_ROLES},
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

    def _is_present(self, kind: str, row, window: EpisodeWindow) -> bool:
        """The registry holds this row already (each held row matches one file row)."""
        known: Counter = getattr(self.existing, kind)
        key = row.match_key(_episode_of(window).pk)
        if known[key] > 0:
            known[key] -= 1
            self.present[kind] += 1
            return True
        return False

    def _contacts(self, window: EpisodeWindow) -> None:
        episode = _episode_of(window)
        columns = {"contact_date": "date", "next_contact_on": "next_contact_on", "minutes": "minutes"}
        for row in sorted(window.contacts, key=lambda row: (row.date, row.line)):
            if self._is_present("contacts", row, window) or not self._can_add_to(window, CONTACTS, row.line):
                continue
            try:
                self._savepoint(
                    CONTACTS,
                    row.line,
                    "date",
                    columns,
                    partial(
                        services.record_contact,
                        episode=episode,
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

    def _measurements(self, window: EpisodeWindow) -> None:
        for row in sorted(window.measurements, key=lambda row: (row.date, row.line)):
            if self._is_present("measurements", row, window) or not self._can_add_to(window, MEASUREMENTS, row.line):
                continue
            try:
                self._savepoint(
                    MEASUREMENTS, row.line, "items" if row.items else "total", {}, self._scorer(window, row)
                )
            except _Refused:
                continue
            self.created["measurements"] += 1

    def _scorer(self, window: EpisodeWindow, row: MeasurementRow) -> Callable[[], Measurement]:
        episode, items = _episode_of(window), row.items
        if items is None:
            return lambda: services.record_total_only_measurement(
                episode=episode, instrument_code=row.instrument, total=row.total, taken_on=row.date, by=self.by
            )
        return lambda: services.record_measurement(
            episode=episode,
            answers=services.Answers(row.instrument, list(items)),
            taken_on=row.date,
            by=self.by,
            source=Measurement.Source.IMPORT,
        )

    def _reviews(self, window: EpisodeWindow) -> None:
        """Each review signed at once by its consultant, recorded by the importer, before the status is applied."""
        episode = _episode_of(window)
        columns = {"reviewed_on": "date", "consultant": "consultant", "summary": "note", "assessment": "note"}
        for row in sorted(window.reviews, key=lambda row: (row.date, row.line)):
            if self._is_present("reviews", row, window) or not self._can_add_to(window, REVIEWS, row.line):
                continue
            try:
                self._savepoint(
                    REVIEWS,
                    row.line,
                    "date",
                    columns,
                    partial(
                        consult_services.record_case_review,
                        episode=episode,
                        reviewed_on=row.date,
                        consultant=self.refs.staff[row.consultant],
                        summary=row.note,
                        by=self.by,
                    ),
                )
            except _Refused:
                continue
            self.created["reviews"] += 1

    def _can_add_to(self, window: EpisodeWindow, name: str, line: int) -> bool:
        """New care goes only into episodes still open in the registry (the import discharges after adding)."""
        episode = _episode_of(window)
        if episode.is_open:
            return True
        what = {CONTACTS: "contacts", MEASUREMENTS: "scores", REVIEWS: "case reviews"}[name]
        message = (
            f"the episode enrolled on {window.enrolled_on:%Y-%m-%d} is discharged in the registry "
            f"({episode.discharged_on:%Y-%m-%d}); new {what} cannot be added to it"
        )
        self.error(name, line, "date", message)
        return False

    def _status(self, window: EpisodeWindow, row: PatientRow) -> bool:
        """The file's status (row, the window's), after the episode's contacts, scores and reviews
        (a discharged episode takes no new care), through patients.services.record_imported_status."""
        episode = _episode_of(window)
        refresh_summary(episode)  # its contacts and scores are in; summaries wait for the end otherwise
        episode.refresh_from_db()
        if _holds_status(episode, row):
            return True
        discharged = row.status == Episode.Status.DISCHARGED
        # Imported history dates only a discharge; for another status, the last the import knows of the episode.
        if not discharged:
            on = episode.last_contact_on or episode.enrolled_on
        elif row.discharged_on is None:  # parsing requires the date of a discharged episode
            raise ValueError(f"{PATIENTS} line {row.line}: discharged without a discharge date")
        else:
            on = row.discharged_on
        columns = {"discharged_on": "discharged_on", "on": "discharged_on" if discharged else "status"}
        try:
            window.episode = self._savepoint(
                PATIENTS,
                row.line,
                "status",
                columns,
                lambda: patient_services.record_imported_status(
                    episode=episode, status=row.status, on=on, discharge_reason=row.discharge_reason, by=self.by
                ),
            )
        except _Refused:
            return False
        return True


def _episode_of(window: EpisodeWindow) -> Episode:
    """The window's episode, once it is written: the care and status of a window whose episode
    failed are not written (Writer.write stops at it)."""
    if window.episode is None:
        raise ValueError(f"the episode enrolled on {window.enrolled_on:%Y-%m-%d} is not written")
    return window.episode


def _holds_status(episode: Episode, row: PatientRow) -> bool:
    """The registry has the episode as the file has it already: nothing to write."""
    held = (episode.status, episode.discharged_on, episode.discharge_reason)
    return held == (row.status, row.discharged_on, row.discharge_reason or "")
