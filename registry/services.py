"""Every write to contacts, measurements and flags goes through these functions.

Each runs in one transaction, names its actor (`by`), keeps the episode's summary true, and
raises the safety flag in the same transaction as the answer that calls for it. Views,
imports and the admin call them, so each rule lives here once.
"""

import datetime
import threading
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from carereg.dates import clinic_today
from carereg.lib.bulk import copy_into_history
from carereg.lib.saving import save_checked
from carereg.tasks import queue_on_commit
from patients.models import Episode
from registry import outbox
from registry.models import (
    ITEM_FIELDS,
    Contact,
    ContactSubmission,
    Flag,
    Measurement,
    RegistrySettings,
    SafetyAssessment,
)
from registry.scoring import INSTRUMENTS, ScoringError, cut_off, raises_safety_flag, safety_reason, score, score_total
from registry.summaries import refresh_summaries, refresh_summary
from registry.tasks import drain_flag_refreshes, refresh_episode_flags, refresh_flags_of_episodes


@dataclass(frozen=True)
class Answers:
    """A completed questionnaire as it arrives from a form, an import or an API."""

    instrument: str
    answers: list[int | None]
    difficulty: int | None = None


def _locked(episode: Episode) -> Episode:
    """The episode's row, locked for this transaction. The patient (with its clinic and the
    clinic's settings) the caller already read is kept rather than read again: the lock is on the
    episode, which is what the writes here depend on."""
    locked = Episode.objects.select_for_update().get(pk=episode.pk)
    if Episode.patient.is_cached(episode):
        locked.patient = episode.patient
    return locked


def _check_date_in_episode(episode: Episode, day: datetime.date, what: str, lookback_days: int = 0) -> None:
    earliest = episode.earliest_score_on(lookback_days) if lookback_days else episode.enrolled_on
    if day < earliest:
        raise ValidationError(f"The {what} date is before this episode began ({earliest:%Y-%m-%d}).")
    if episode.discharged_on and day > episode.discharged_on:
        raise ValidationError(f"The {what} date is after this episode's discharge ({episode.discharged_on:%Y-%m-%d}).")
    if day > clinic_today(episode.patient.clinic):  # the patient's clinic's calendar, whoever records
        raise ValidationError(f"The {what} date is in the future.")


def _save(instance, by) -> None:
    save_checked(instance, by, exclude=["recorded_by", "episode", "contact"])


@transaction.atomic
def record_measurement(
    *,
    episode: Episode,
    answers: Answers,
    taken_on: datetime.date,
    by,
    source: str = Measurement.Source.CLINICIAN,
) -> Measurement:
    """A scored questionnaire; an answer the instrument's safety rule calls for (PHQ-9 item 9 >= 1)
    raises the safety flag in the same transaction."""
    measurement = _create_measurement(episode=episode, answers=answers, taken_on=taken_on, by=by, source=source)
    episode_changed(episode)
    return measurement


def _create_measurement(
    *,
    episode: Episode,
    answers: Answers,
    taken_on: datetime.date,
    by,
    contact: Contact | None = None,
    source: str = Measurement.Source.CLINICIAN,
) -> Measurement:
    if not episode.is_open:
        raise ValidationError("This episode is discharged; enroll the patient again to record new scores.")
    instrument = INSTRUMENTS.get(answers.instrument)
    if instrument is None:
        raise ValidationError(f"Unknown instrument {answers.instrument!r}.")
    clinic_settings = RegistrySettings.for_clinic(episode.patient.clinic)
    # A score before enrollment counts when it is the screening that led to it
    # (docs/clinical-definitions.md#baseline-latest-and-change).
    _check_date_in_episode(episode, taken_on, "measurement", lookback_days=clinic_settings.baseline_lookback_days)
    threshold = _cut_off_for(instrument, episode, clinic_settings)
    try:
        result = score(instrument, answers.answers, positive_at=threshold)
    except ScoringError as exc:
        raise ValidationError(str(exc)) from None
    if answers.difficulty is not None and instrument.extra_question("difficulty") is None:
        asking = " and the ".join(i.name for i in INSTRUMENTS.values() if i.extra_question("difficulty"))
        raise ValidationError(f"Only the {asking} asks the difficulty question.")
    measurement = Measurement(
        episode=episode,
        contact=contact,
        instrument=instrument.code,
        taken_on=taken_on,
        total=result.total,
        band=result.band,
        difficulty=answers.difficulty,
        source=source,
        recorded_by=by,
        **dict(zip(ITEM_FIELDS, answers.answers, strict=False)),
    )
    _save(measurement, by)
    if raises_safety_flag(instrument, answers.answers):
        raise_flag(
            episode=episode,
            kind=Flag.Kind.SAFETY,
            by=by,
            measurement=measurement,
            reason=safety_reason(instrument, answers.answers, taken_on),
        )
    return measurement


def _cut_off_for(instrument, episode: Episode, clinic_settings: RegistrySettings) -> int:
    """AUDIT-C's cut-off depends on the patient's sex, PCL-5's on the clinic's setting."""
    return cut_off(instrument, sex=episode.patient.sex, pcl5_positive_at=clinic_settings.pcl5_positive_at)


@transaction.atomic
def record_total_only_measurement(
    *, episode: Episode, instrument_code: str, total: int, taken_on: datetime.date, by
) -> Measurement:
    """A legacy total with no item answers, from imports only (docs/clinical-definitions.md#instruments)."""
    if not episode.is_open:
        raise ValidationError("This episode is discharged; enroll the patient again to record new scores.")
    instrument = INSTRUMENTS[instrument_code]
    clinic_settings = RegistrySettings.for_clinic(episode.patient.clinic)
    # A score before enrollment counts when it is the screening that led to it
    # (docs/clinical-definitions.md#baseline-latest-and-change).
    _check_date_in_episode(episode, taken_on, "measurement", lookback_days=clinic_settings.baseline_lookback_days)
    try:
        result = score_total(instrument, total, positive_at=_cut_off_for(instrument, episode, clinic_settings))
    except ScoringError as exc:
        raise ValidationError(str(exc)) from None
    measurement = Measurement(
        episode=episode,
        instrument=instrument.code,
        taken_on=taken_on,
        total=result.total,
        band=result.band,
        total_only=True,
        source=Measurement.Source.IMPORT,
        recorded_by=by,
    )
    _save(measurement, by)
    episode_changed(episode)
    return measurement


@transaction.atomic
def record_contact(
    *,
    episode: Episode,
    by,
    contact_date: datetime.date,
    kind: str,
    mode: str,
    reached: bool = True,
    with_whom: str = Contact.WithWhom.PATIENT,
    contact_time: datetime.time | None = None,
    minutes: int = 0,
    interventions: Iterable[str] = (),
    note: str = "",
    next_contact_on: datetime.date | None = None,
    scores: Iterable[Answers] = (),
) -> Contact:
    """A contact, and the scores taken at it, saved together or not at all."""
    episode = _locked(episode)
    if not episode.is_open:
        raise ValidationError("This episode is discharged; enroll the patient again to record new care.")
    _check_date_in_episode(episode, contact_date, "contact")
    scores = list(scores)
    if scores and not reached:
        raise ValidationError("Scores can only be recorded at a contact that reached the patient.")
    contact = Contact(
        episode=episode,
        contact_date=contact_date,
        contact_time=contact_time,
        kind=kind,
        mode=mode,
        reached=reached,
        with_whom=with_whom,
        minutes=minutes,
        interventions=list(interventions),
        note=note,
        next_contact_on=next_contact_on,
        recorded_by=by,
    )
    _save(contact, by)
    for answers in scores:
        _create_measurement(episode=episode, answers=answers, taken_on=contact_date, by=by, contact=contact)
    if contact.is_completed and contact.kind == Contact.Kind.INITIAL_ASSESSMENT:
        _start_active_treatment(episode, on=contact_date, by=by)
    episode_changed(episode)
    return contact


@transaction.atomic
def record_visit(
    *, episode: Episode, by, scores: Iterable[Answers] = (), parts=(), submission=None, **contact
) -> tuple:
    """A contact with its scores and what the other apps' parts of the page record (care's
    treatment, registry/visits.py), saved together or not at all: (the contact, what each part
    saved). The submission token, when given, is written with them: its unique key makes the
    second of two posts of one form roll back here (IntegrityError)."""
    saved_contact = record_contact(episode=episode, by=by, scores=scores, **contact)
    saved = [part.save(contact=saved_contact, by=by) for part in parts]
    if submission:
        ContactSubmission.objects.create(token=submission, contact=saved_contact)
    return saved_contact, saved


_batch = threading.local()


@contextmanager
def deferred_refreshes():
    """For bulk writers (imports): inside, writes skip the per-write summary and flag refresh;
    on leaving, the touched episodes' summaries are refreshed in one statement and their flags
    once, after commit. Readers of a summary inside must call refresh_summary themselves."""
    if getattr(_batch, "episode_ids", None) is not None:
        yield
        return
    _batch.episode_ids = set()
    try:
        yield
        episode_ids = sorted(_batch.episode_ids)
    finally:
        _batch.episode_ids = None
    if episode_ids and not transaction.get_rollback():  # a failed import keeps nothing to refresh
        refresh_summaries(Episode.objects.filter(pk__in=episode_ids))
        outbox.request_refresh(episode_ids)
        queue_on_commit(refresh_flags_of_episodes, episode_ids)


def _batching(episode: Episode) -> bool:
    episode_ids = getattr(_batch, "episode_ids", None)
    if episode_ids is None:
        return False
    episode_ids.add(episode.pk)
    return True


def episode_changed(episode: Episode) -> None:
    """Keep the summary true now, and the rule flags true once the change is committed."""
    if _batching(episode):
        return
    refresh_summary(episode)
    queue_flag_refresh(episode)


def queue_flag_refresh(episode: Episode) -> None:
    """The request is written in the caller's transaction (the outbox); the task queued after
    commit is the fast path, and the sweep does it if the task is lost."""
    if not _batching(episode):
        outbox.request_refresh([episode.pk])
        queue_on_commit(refresh_episode_flags, episode.pk)


def queue_full_flag_refresh() -> None:
    """After a clinic's thresholds change: every episode's flags, recorded in the caller's
    transaction (the outbox) and drained after commit, or by the sweep if that message is lost."""
    outbox.request_full_refresh()
    queue_on_commit(drain_flag_refreshes)


def _start_active_treatment(episode: Episode, *, on: datetime.date, by) -> None:
    """The initial assessment done, an enrolled episode moves to active treatment
    (docs/clinical-definitions.md#episodes-and-status)."""
    if episode.status == Episode.Status.ENROLLED:
        episode.status = Episode.Status.ACTIVE
        episode.status_changed_on = on
        episode._history_user = by
        episode.save(update_fields=["status", "status_changed_on"])


@transaction.atomic
def mark_contact_entered_in_error(*, contact: Contact, by, reason: str) -> Contact:
    if not reason.strip():
        raise ValidationError("Say why this contact was entered in error.")
    if contact.is_entered_in_error:
        raise ValidationError("This contact is already marked entered in error.")
    now = timezone.now()
    contact.entered_in_error_at, contact.entered_in_error_by, contact.entered_in_error_reason = now, by, reason
    contact._history_user = by
    contact.save(update_fields=["entered_in_error_at", "entered_in_error_by", "entered_in_error_reason"])
    for measurement in contact.measurements.valid():
        _mark_measurement_in_error(measurement, by=by, reason=reason, at=now)
    episode_changed(contact.episode)
    return contact


@transaction.atomic
def mark_measurement_entered_in_error(*, measurement: Measurement, by, reason: str) -> Measurement:
    if not reason.strip():
        raise ValidationError("Say why this score was entered in error.")
    if measurement.is_entered_in_error:
        raise ValidationError("This score is already marked entered in error.")
    _mark_measurement_in_error(measurement, by=by, reason=reason, at=timezone.now())
    episode_changed(measurement.episode)
    return measurement


def _mark_measurement_in_error(measurement: Measurement, *, by, reason: str, at) -> None:
    measurement.entered_in_error_at, measurement.entered_in_error_by = at, by
    measurement.entered_in_error_reason = reason
    measurement._history_user = by
    measurement.save(update_fields=["entered_in_error_at", "entered_in_error_by", "entered_in_error_reason"])


def raise_flag(
    *, episode: Episode, kind: str, by=None, reason: str = "", measurement: Measurement | None = None
) -> Flag:
    """Open a flag of this kind unless one is open already: raising twice raises nothing twice."""
    existing = Flag.objects.filter(episode=episode, kind=kind, resolved_at__isnull=True).first()
    if existing:
        return existing
    flag = Flag(
        episode=episode, kind=kind, raised_by=by, reason=reason, measurement=measurement, raised_at=timezone.now()
    )
    flag._history_user = by
    try:
        with transaction.atomic():
            flag.save()
    except IntegrityError:
        # Someone raised the same flag between our read and our insert: theirs stands.
        return Flag.objects.get(episode=episode, kind=kind, resolved_at__isnull=True)
    return flag


@transaction.atomic
def resolve_safety_flag(
    *,
    flag: Flag,
    by,
    risk_level: str,
    actions: Iterable[str],
    note: str,
    assessed_at: datetime.datetime,
    follow_up_on: datetime.date | None = None,
) -> SafetyAssessment:
    """Close a safety flag with the documented safety assessment that justifies it
    (docs/clinical-definitions.md#safety). A close follow-up date makes the episode's next contact
    due by then (registry.summaries)."""
    flag = Flag.objects.select_for_update().get(pk=flag.pk)
    if flag.kind != Flag.Kind.SAFETY:
        raise ValidationError("Only a safety flag is closed with a safety assessment.")
    if not flag.is_open:
        raise ValidationError("This flag is already resolved.")
    if not note.strip():
        raise ValidationError("Document what was assessed and done.")
    if by is None or not by.is_authenticated:
        raise PermissionDenied("A safety flag is closed only by a person.")
    assessment = SafetyAssessment(
        episode=flag.episode,
        flag=flag,
        assessed_at=assessed_at,
        assessed_by=by,
        risk_level=risk_level,
        actions=list(actions),
        note=note,
        follow_up_on=follow_up_on,
    )
    assessment._history_user = by
    assessment.full_clean(exclude=["episode", "flag", "assessed_by"])
    assessment.save()
    flag.resolved_at, flag.resolved_by = timezone.now(), by
    flag.resolution_note = f"Safety assessment: {assessment.get_risk_level_display()} risk. {note}"
    flag._history_user = by
    flag.save(update_fields=["resolved_at", "resolved_by", "resolution_note"])
    if follow_up_on:
        episode_changed(flag.episode)
    return assessment


@transaction.atomic
def request_case_review(*, episode: Episode, by, reason: str) -> Flag:
    """The care manager asks for a patient to be discussed: a needs-discussion flag puts them
    on the next caseload review agenda."""
    if not reason.strip():
        raise ValidationError("Say what the consultant should discuss.")
    if not episode.is_open:
        raise ValidationError("This episode is discharged.")
    flag = raise_flag(episode=episode, kind=Flag.Kind.NEEDS_DISCUSSION, by=by, reason=reason.strip())
    if reason.strip() not in flag.reason:  # asked again before the review: keep both questions
        flag.reason = f"{flag.reason}\n{timezone.localdate():%Y-%m-%d}: {reason.strip()}"
        flag._history_user = by
        flag.save(update_fields=["reason"])
    return flag


@transaction.atomic
def resolve_flag(*, flag: Flag, by, note: str) -> Flag:
    """A person closes a flag with a note. Safety flags need a safety assessment instead; a
    rule's flag closed while its rule still holds comes back at the next refresh."""
    flag = Flag.objects.select_for_update().get(pk=flag.pk)
    if flag.kind == Flag.Kind.SAFETY:
        raise ValidationError("A safety flag is closed with a documented safety assessment.")
    if not flag.is_open:
        raise ValidationError("This flag is already resolved.")
    if not note.strip():
        raise ValidationError("Say why the flag is resolved.")
    flag.resolved_at, flag.resolved_by, flag.resolution_note = timezone.now(), by, note.strip()
    flag._history_user = by
    flag.save(update_fields=["resolved_at", "resolved_by", "resolution_note"])
    return flag


def mark_flags_seen(*, episode: Episode, by, flags: Iterable[int] | None = None) -> int:
    """The patient's care manager has seen the open flags (those with these ids, when given: the
    ones the page showed): a step of each flag's life, in its history."""
    unseen = Flag.objects.filter(episode=episode, resolved_at__isnull=True, seen_at__isnull=True)
    if flags is not None:
        unseen = unseen.filter(pk__in=list(flags))
    unseen = list(unseen.values_list("pk", flat=True))
    if unseen:
        Flag.objects.filter(pk__in=unseen).update(seen_at=timezone.now(), seen_by=by)
        copy_into_history(Flag, unseen, by=by, change="~")
    return len(unseen)
