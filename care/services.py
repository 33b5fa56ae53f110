"""Every write to medications, intervention sessions, referrals and education goes through here.

Keyword-only arguments, an explicit actor (`by`, recorded as the history user), one
transaction each, and ValidationErrors keyed by the field they are about, as in
registry.services. `record_treatment_details` saves what a care manager records beside a
contact in one sitting, and reports every part's errors at once.
"""

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import Clinic
from care.models import (
    EducationGiven,
    EducationTopic,
    InterventionSession,
    Medication,
    MedicationReport,
    Referral,
)
from care.starter_library import STARTER_TOPICS
from carereg.dates import clinic_today
from carereg.lib.saving import save_checked
from patients.models import Episode
from registry.models import Contact, EnteredInError, Intervention, RegistrySettings


def _save(instance, by, exclude: Sequence[str] = ()) -> None:
    save_checked(instance, by, exclude=["episode", "contact", "recorded_by", *exclude])


def _check_open(episode: Episode) -> None:
    if not episode.is_open:
        raise ValidationError("This episode is discharged; enroll the patient again to record new care.")


def _check_day(day: datetime.date | None, field_name: str, what: str, episode: Episode | None = None) -> None:
    if day is None:
        raise ValidationError({field_name: f"Give the {what} date."})
    if day > timezone.localdate():
        raise ValidationError({field_name: f"The {what} date cannot be in the future."})
    if episode is not None and day < episode.enrolled_on:
        raise ValidationError({field_name: f"The {what} date is before this episode began ({episode.enrolled_on})."})


# --- Entered in error ----------------------------------------------------------------------------


def _check_not_in_error(row: EnteredInError, what: str) -> None:
    if row.is_entered_in_error:
        raise ValidationError(f"This {what} is marked entered in error.")


Row = TypeVar("Row", bound=EnteredInError)


def _mark_entered_in_error(row: Row, *, by, reason: str, what: str) -> Row:
    """Mark a row entered in error, with who, when and why; history keeps the version before.

    The row is read again under a lock, so that of two people marking it at once the second is refused."""
    if not reason.strip():
        raise ValidationError({"reason": f"Say why this {what} was entered in error."})
    row = type(row).objects.select_for_update().get(pk=row.pk)
    if row.is_entered_in_error:
        raise ValidationError(f"This {what} is already marked entered in error.")
    row.entered_in_error_at, row.entered_in_error_by, row.entered_in_error_reason = timezone.now(), by, reason.strip()
    row._history_user = by
    row.save(update_fields=["entered_in_error_at", "entered_in_error_by", "entered_in_error_reason"])
    return row


@transaction.atomic
def mark_medication_entered_in_error(*, medication: Medication, by, reason: str) -> Medication:
    """It is no longer current: off the medication list, the record-contact form and the consultant's
    panel. Its stop date stays empty (a medication never taken was never stopped), and reports
    already made on it stay with their contacts."""
    return _mark_entered_in_error(medication, by=by, reason=reason, what="medication")


@transaction.atomic
def mark_referral_entered_in_error(*, referral: Referral, by, reason: str) -> Referral:
    """Its status is left as it was, but it is off the follow-up list and its status no longer changes."""
    return _mark_entered_in_error(referral, by=by, reason=reason, what="referral")


@transaction.atomic
def mark_education_given_entered_in_error(*, education_given: EducationGiven, by, reason: str) -> EducationGiven:
    return _mark_entered_in_error(education_given, by=by, reason=reason, what="education record")


# --- Medications ---------------------------------------------------------------------------------


def _check_prescriber(episode: Episode, prescriber, prescriber_name: str) -> None:
    if prescriber is not None and prescriber_name.strip():
        raise ValidationError({"prescriber_name": "Choose the PCP or name another prescriber, not both."})
    if prescriber is not None and prescriber.pk != episode.patient.pcp_id:
        raise ValidationError({"prescriber": f"{prescriber} is not this patient's PCP."})


@transaction.atomic
def add_medication(
    *,
    episode: Episode,
    by,
    name: str,
    dose: str,
    started_on: datetime.date,
    instructions: str = "",
    prescriber=None,
    prescriber_name: str = "",
) -> Medication:
    _check_open(episode)
    # A medication started before enrollment is common (the PCP started it): no episode bound.
    _check_day(started_on, "started_on", "start")
    _check_prescriber(episode, prescriber, prescriber_name)
    medication = Medication(
        episode=episode,
        name=name.strip(),
        dose=dose.strip(),
        instructions=instructions.strip(),
        started_on=started_on,
        prescriber=prescriber,
        prescriber_name=prescriber_name.strip(),
        recorded_by=by,
    )
    _save(medication, by)
    return medication


@transaction.atomic
def update_medication(
    *,
    medication: Medication,
    by,
    name: str,
    dose: str,
    started_on: datetime.date,
    instructions: str = "",
    prescriber=None,
    prescriber_name: str = "",
) -> Medication:
    """Correct or change a current medication (a new dose, say); history keeps each version."""
    medication = Medication.objects.select_for_update().select_related("episode__patient").get(pk=medication.pk)
    _check_not_in_error(medication, "medication")
    if not medication.is_current:
        raise ValidationError("A stopped medication is not edited: add it again if the patient restarts it.")
    _check_day(started_on, "started_on", "start")
    _check_prescriber(medication.episode, prescriber, prescriber_name)
    medication.name, medication.dose, medication.instructions = name.strip(), dose.strip(), instructions.strip()
    medication.started_on, medication.prescriber = started_on, prescriber
    medication.prescriber_name = prescriber_name.strip()
    _save(medication, by)
    return medication


@transaction.atomic
def stop_medication(*, medication: Medication, by, stopped_on: datetime.date, reason: str) -> Medication:
    medication = Medication.objects.select_for_update().get(pk=medication.pk)
    _check_not_in_error(medication, "medication")
    if not medication.is_current:
        raise ValidationError("This medication is already stopped.")
    if not reason.strip():
        raise ValidationError({"stop_reason": "Say why the medication was stopped."})
    _check_day(stopped_on, "stopped_on", "stop")
    if stopped_on < medication.started_on:
        raise ValidationError({"stopped_on": f"The stop date is before the start ({medication.started_on})."})
    medication.stopped_on, medication.stop_reason = stopped_on, reason.strip()
    _save(medication, by)
    return medication


@dataclass(frozen=True)
class ReportInput:
    medication: Medication
    adherence: str = ""
    side_effect_severity: str = ""
    side_effects: str = ""
    effectiveness: str = ""

    @property
    def key(self) -> str:
        return f"med-{self.medication.pk}"


def _record_medication_report(*, contact: Contact, report: ReportInput, by) -> MedicationReport:
    medication = report.medication
    if medication.episode_id != contact.episode_id:
        raise ValidationError("This medication belongs to another episode.")
    if medication.is_entered_in_error or (medication.stopped_on and medication.stopped_on < contact.contact_date):
        raise ValidationError(f"{medication} was stopped before this contact.")
    if not (report.adherence or report.side_effect_severity or report.effectiveness):
        raise ValidationError("Say something about this medication: adherence, side effects or effectiveness.")
    if report.side_effects.strip() and not report.side_effect_severity:
        raise ValidationError({"side_effect_severity": "Say how severe the side effects are."})
    if report.side_effect_severity not in ("", MedicationReport.Severity.NONE) and not report.side_effects.strip():
        raise ValidationError({"side_effects": "Describe the side effects."})
    if MedicationReport.objects.filter(contact=contact, medication=medication).exists():
        raise ValidationError(f"{medication} already has a report at this contact.")
    saved = MedicationReport(
        contact=contact,
        medication=medication,
        adherence=report.adherence,
        side_effect_severity=report.side_effect_severity,
        side_effects=report.side_effects.strip(),
        effectiveness=report.effectiveness,
        recorded_by=by,
    )
    _save(saved, by, exclude=["medication"])
    return saved


# --- Brief behavioral interventions -------------------------------------------------------------


def next_session(episode: Episode, intervention: str) -> tuple[int, int | None]:
    """The next session number of this intervention in the episode, and the number planned so far."""
    sessions = InterventionSession.objects.valid().filter(episode=episode, intervention=intervention)
    latest = sessions.order_by("-contact__contact_date", "-session_number", "-pk").first()
    highest = sessions.aggregate(n=Max("session_number"))["n"] or 0
    return highest + 1, latest.planned_sessions if latest else None


@dataclass(frozen=True)
class SessionInput:
    intervention: str
    session_number: int | None = None
    planned_sessions: int | None = None
    note: str = ""
    key: str = "session"


def _record_session(*, contact: Contact, session: SessionInput, by) -> InterventionSession:
    if session.intervention not in Intervention.values:
        raise ValidationError({"intervention": "Choose an intervention."})
    label = Intervention(session.intervention).label
    if InterventionSession.objects.filter(contact=contact, intervention=session.intervention).exists():
        raise ValidationError({"intervention": f"{label} is already recorded at this contact."})
    number, planned = next_session(contact.episode, session.intervention)
    if session.session_number is not None:
        number = session.session_number
        used = (
            InterventionSession.objects.valid()
            .filter(episode_id=contact.episode_id, intervention=session.intervention, session_number=number)
            .select_related("contact")
            .first()
        )
        if used is not None:
            raise ValidationError(
                {"session_number": f"{label} session {number} was recorded on {used.contact.contact_date}."}
            )
    if session.planned_sessions is not None:
        planned = session.planned_sessions
    if number < 1 or number > 99:
        raise ValidationError({"session_number": "The session number must be 1-99."})
    if planned is not None and not 1 <= planned <= 99:
        raise ValidationError({"planned_sessions": "The number of sessions planned must be 1-99."})
    if planned is not None and number > planned:
        raise ValidationError(
            {"planned_sessions": f"Session {number} is past the {planned} planned: raise the number planned."}
        )
    saved = InterventionSession(
        episode_id=contact.episode_id,
        contact=contact,
        intervention=session.intervention,
        session_number=number,
        planned_sessions=planned,
        note=session.note.strip(),
        recorded_by=by,
    )
    _save(saved, by)
    return saved


def _sync_contact_interventions(contact: Contact, codes: Iterable[str], by) -> None:
    """Contact.interventions (the codes the timeline, the consultant's panel and the CSV files
    use) always includes every intervention with a session at the contact."""
    missing = [code for code in dict.fromkeys(codes) if code not in contact.interventions]
    if missing:
        contact.interventions = [*contact.interventions, *missing]
        contact._history_user = by
        contact.save(update_fields=["interventions"])


# --- Referrals -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferralInput:
    kind: str
    to_whom: str
    reason: str
    sent_on: datetime.date | None = None
    key: str = "referral"


@transaction.atomic
def make_referral(
    *,
    episode: Episode,
    by,
    kind: str,
    to_whom: str,
    reason: str,
    sent_on: datetime.date,
    contact: Contact | None = None,
) -> Referral:
    _check_open(episode)
    _check_day(sent_on, "sent_on", "sent", episode)
    if not to_whom.strip():
        raise ValidationError({"to_whom": "Say who the patient is referred to."})
    if not reason.strip():
        raise ValidationError({"reason": "Give the reason for the referral."})
    referral = Referral(
        episode=episode,
        contact=contact,
        kind=kind,
        to_whom=to_whom.strip(),
        reason=reason.strip(),
        sent_on=sent_on,
        recorded_by=by,
    )
    _save(referral, by)
    return referral


@transaction.atomic
def change_referral_status(
    *, referral: Referral, by, status: str, on: datetime.date | None, note: str = ""
) -> Referral:
    """Move a referral along sent -> scheduled -> completed / declined / no show.

    `on` is the appointment date when scheduling (it may be ahead), otherwise the day the
    referral closed (not ahead). Each change is a version in the referral's history.
    """
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    _check_not_in_error(referral, "referral")
    current = Referral.Status(referral.status)
    if status not in Referral.Status.values:
        raise ValidationError({"status": "Choose a status."})
    if status not in Referral.TRANSITIONS[current]:
        allowed = ", ".join(Referral.Status(s).label.lower() for s in referral.allowed_next_statuses())
        raise ValidationError(
            {
                "status": f"A {current.label.lower()} referral cannot become {Referral.Status(status).label.lower()}"
                + (f"; it can become {allowed}." if allowed else "; it is closed.")
            }
        )
    if on is None:
        raise ValidationError({"on": "Give the date."})
    if on < referral.sent_on:
        raise ValidationError({"on": f"The date is before the referral was sent ({referral.sent_on})."})
    if status == Referral.Status.SCHEDULED:
        referral.scheduled_for = on
    else:
        if on > timezone.localdate():
            raise ValidationError({"on": "The closing date cannot be in the future."})
        referral.closed_on = on
    referral.status = status
    referral.status_note = note.strip()
    _save(referral, by)
    return referral


def referrals_to_follow_up(clinic: Clinic, today: datetime.date | None = None, days: int | None = None):
    """Open referrals (sent or scheduled) sent more than the clinic's referral_overdue_days ago,
    oldest first. Sent 30 days ago with the default 30 is not yet listed; 31 days ago is."""
    days = days if days is not None else RegistrySettings.for_clinic(clinic).referral_overdue_days
    today = today or clinic_today(clinic)
    return (
        Referral.objects.valid()
        .filter(episode__patient__clinic=clinic, status__in=Referral.OPEN)
        .filter(sent_on__lt=today - datetime.timedelta(days=days))
        .select_related("episode__patient__care_manager", "recorded_by")
        .order_by("sent_on", "pk")
    )


# --- Education -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EducationInput:
    topics: Sequence[EducationTopic]
    how: str
    note: str = ""
    key: str = "education"


@transaction.atomic
def give_education(
    *,
    episode: Episode,
    topic: EducationTopic,
    by,
    given_on: datetime.date,
    how: str,
    note: str = "",
    contact: Contact | None = None,
) -> EducationGiven:
    _check_open(episode)
    _check_day(given_on, "given_on", "given", episode)
    if topic.clinic_id != episode.patient.clinic_id:
        raise ValidationError({"topic": "This topic is not in the patient's clinic's library."})
    if not topic.active:
        raise ValidationError({"topic": f"{topic} is no longer offered."})
    given = EducationGiven(
        episode=episode, contact=contact, topic=topic, given_on=given_on, how=how, given_by=by, note=note.strip()
    )
    _save(given, by, exclude=["topic", "given_by"])
    return given


@transaction.atomic
def save_topic(*, clinic: Clinic, by, topic: EducationTopic | None = None, **fields) -> EducationTopic:
    """Add a topic to the clinic's library, or change one (history keeps each wording)."""
    topic = topic or EducationTopic(clinic=clinic)
    if topic.clinic_id != clinic.pk:
        raise ValidationError("This topic belongs to another clinic.")
    for name, value in fields.items():
        setattr(topic, name, value.strip() if isinstance(value, str) else value)
    same = EducationTopic.objects.filter(clinic=clinic, title=topic.title, language=topic.language)
    if same.exclude(pk=topic.pk).exists():
        raise ValidationError({"title": "The library already has a topic with this title in this language."})
    topic._history_user = by
    topic.full_clean(exclude=["clinic"], validate_constraints=False)
    topic.save()
    return topic


@transaction.atomic
def ensure_starter_library(clinic: Clinic, by=None) -> int:
    """Give a clinic with an empty library the starter topics; a library already begun is the
    clinic's own and is left alone. Returns how many topics were added."""
    if EducationTopic.objects.filter(clinic=clinic).exists():
        return 0
    for title, category, text in STARTER_TOPICS:
        topic = EducationTopic(clinic=clinic, title=title, category=category, handout_text=text)
        topic._history_user = by
        topic.save()
    return len(STARTER_TOPICS)


# --- One sitting ---------------------------------------------------------------------------------


class TreatmentDetailsError(ValidationError):
    """Every part's errors at once, by the part's key, so that the form shows each beside its part."""

    def __init__(self, parts: dict[str, ValidationError]):
        self.parts = parts
        super().__init__([message for error in parts.values() for message in error.messages])


@dataclass
class TreatmentDetails:
    medication_reports: list[MedicationReport] = field(default_factory=list)
    sessions: list[InterventionSession] = field(default_factory=list)
    referral: Referral | None = None
    education: list[EducationGiven] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.medication_reports or self.sessions or self.referral or self.education)


@transaction.atomic
def record_treatment_details(
    *,
    contact: Contact,
    by,
    medication_reports: Iterable[ReportInput] = (),
    sessions: Iterable[SessionInput] = (),
    referral: ReferralInput | None = None,
    education: EducationInput | None = None,
) -> TreatmentDetails:
    """What the care manager recorded beside a contact, all saved or none.

    Call it inside the transaction that saved the contact: a TreatmentDetailsError (every
    part's errors) rolls the caller's transaction back, contact included.
    """
    medication_reports, sessions = list(medication_reports), list(sessions)
    saved = TreatmentDetails()
    errors: dict[str, ValidationError] = {}

    def attempt(key: str, write):
        try:
            with transaction.atomic():  # a savepoint: one part's failure does not stop the others' checks
                return write()
        except ValidationError as error:
            errors[key] = error
            return None

    if (medication_reports or sessions) and not contact.is_completed:
        errors["contact"] = ValidationError(
            "Medication reports and intervention sessions need a contact that reached the patient."
        )
        medication_reports, sessions = [], []
    for report in medication_reports:
        saved_report = attempt(report.key, lambda r=report: _record_medication_report(contact=contact, report=r, by=by))
        if saved_report:
            saved.medication_reports.append(saved_report)
    for session in sessions:
        saved_session = attempt(session.key, lambda s=session: _record_session(contact=contact, session=s, by=by))
        if saved_session:
            saved.sessions.append(saved_session)
    if referral is not None:
        saved.referral = attempt(
            referral.key,
            lambda: make_referral(
                episode=contact.episode,
                by=by,
                kind=referral.kind,
                to_whom=referral.to_whom,
                reason=referral.reason,
                sent_on=referral.sent_on or contact.contact_date,
                contact=contact,
            ),
        )
    if education is not None:
        given = attempt(
            education.key,
            lambda: [
                give_education(
                    episode=contact.episode,
                    topic=topic,
                    by=by,
                    given_on=contact.contact_date,
                    how=education.how,
                    note=education.note,
                    contact=contact,
                )
                for topic in education.topics
            ],
        )
        saved.education = given or []
    if errors:
        raise TreatmentDetailsError(errors)
    _sync_contact_interventions(contact, [s.intervention for s in saved.sessions], by)
    return saved
