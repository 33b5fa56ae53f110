"""Consultation notes and their recommendations: every write, with its actor.

A note is a draft until its consultant signs it; a signed note never changes (amendments go
beside it). Each recommendation then moves pending -> communicated -> the PCP's response ->
implemented (or declined, with the reason). Every change keeps the episode's summary (last
review, open recommendations) true at once and its flags true after commit.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Role
from care import services as care_services
from care.models import Medication
from consults.models import AgendaItem, Amendment, CaseReview, Recommendation
from patients.diagnoses import clean_diagnoses
from patients.models import Episode
from registry.models import Flag
from registry.services import episode_changed

Status = Recommendation.Status


def _current(episode: Episode) -> Episode:
    return Episode.objects.select_related("patient").get(pk=episode.pk)  # as it is now, not as the caller saw it


def check_consultant(consultant, episode: Episode) -> None:
    if consultant.role != Role.PSYCHIATRIC_CONSULTANT:
        raise ValidationError({"consultant": f"{consultant} is not a psychiatric consultant."})
    if not consultant.clinics.filter(pk=episode.patient.clinic_id).exists():
        raise ValidationError({"consultant": f"{consultant} does not consult for this clinic."})


def check_review_date(episode: Episode, reviewed_on: datetime.date) -> None:
    if reviewed_on > timezone.localdate():
        raise ValidationError({"reviewed_on": "The review date cannot be in the future."})
    if reviewed_on < episode.enrolled_on:
        raise ValidationError({"reviewed_on": "The review date is before this episode began."})


def _locked_draft(review: CaseReview) -> CaseReview:
    review = CaseReview.objects.select_for_update().select_related("episode__patient").get(pk=review.pk)
    if review.is_signed:
        raise ValidationError("A signed note is never edited: add an amendment instead.")
    return review


@transaction.atomic
def start_note(*, episode: Episode, consultant, by, agenda_item: AgendaItem | None = None) -> CaseReview:
    """The consultant's draft note for this episode: the one already begun, or a new one."""
    episode = _current(episode)
    if not episode.is_open:
        raise ValidationError("This episode is discharged.")
    check_consultant(consultant, episode)
    draft = CaseReview.objects.filter(episode=episode, consultant=consultant, signed_at__isnull=True).first()
    if draft is None:
        day = min(agenda_item.agenda.meets_on, timezone.localdate()) if agenda_item else timezone.localdate()
        draft = CaseReview(
            episode=episode, consultant=consultant, reviewed_on=max(day, episode.enrolled_on), recorded_by=by
        )
    if agenda_item is not None and draft.agenda_item_id != agenda_item.pk:
        # A draft left unsigned at an earlier session moves on to this one.
        if CaseReview.objects.filter(agenda_item=agenda_item).exclude(pk=draft.pk).exists():
            raise ValidationError("This agenda item already has a note.")
        draft.agenda_item = agenda_item
    draft._history_user = by
    draft.save()
    return draft


@transaction.atomic
def save_draft(
    *,
    review: CaseReview,
    by,
    reviewed_on: datetime.date,
    assessment: str,
    diagnoses,
    summary: str,
    minutes: int | None = None,
) -> CaseReview:
    review = _locked_draft(review)
    check_review_date(review.episode, reviewed_on)
    review.reviewed_on, review.assessment, review.summary = reviewed_on, assessment.strip(), summary.strip()
    review.diagnoses = clean_diagnoses(diagnoses)
    review._history_user = by
    review.save()
    if review.agenda_item_id and minutes is not None:
        AgendaItem.objects.filter(pk=review.agenda_item_id).update(minutes=minutes)
    return review


@transaction.atomic
def add_recommendation(*, review: CaseReview, by, kind: str, drug: str = "", dose: str = "", details: str = ""):
    review = _locked_draft(review)
    if kind not in Recommendation.Kind.values:
        raise ValidationError({"kind": "Choose what kind of recommendation this is."})
    if kind in Recommendation.MEDICATION_KINDS and not drug.strip():
        raise ValidationError({"drug": "Name the medication."})
    if kind == Recommendation.Kind.OTHER and not details.strip():
        raise ValidationError({"details": "Say what is recommended."})
    recommendation = Recommendation(
        review=review, episode=review.episode, kind=kind, drug=drug.strip(), dose=dose.strip(), details=details.strip()
    )
    recommendation._history_user = by
    recommendation.save()
    return recommendation


@transaction.atomic
def remove_recommendation(*, recommendation: Recommendation, by) -> None:
    """Only from a draft: until the note is signed its recommendations are the consultant's working text."""
    _locked_draft(recommendation.review)
    recommendation._history_user = by
    recommendation.delete()


@transaction.atomic
def sign(*, review: CaseReview, by) -> CaseReview:
    """The consultant signs: the review counts from now (clearing "new patient", restarting the
    "not improving" clock, answering a request for discussion) and its recommendations start."""
    review = _locked_draft(review)
    if by.pk != review.consultant_id:
        raise PermissionDenied("Only the consultant who wrote the note signs it.")
    if not review.assessment:
        raise ValidationError({"assessment": "Write the assessment before signing."})
    review.signed_at = timezone.now()
    review._history_user = by
    review.save(update_fields=["signed_at"])
    for recommendation in review.recommendations.all():
        recommendation.recommended_on = review.reviewed_on
        recommendation._history_user = by
        recommendation.save(update_fields=["recommended_on"])
    _answer_requests_for_discussion(review, by)
    episode_changed(review.episode)
    return review


def _answer_requests_for_discussion(review: CaseReview, by) -> None:
    for flag in Flag.objects.filter(episode=review.episode, kind=Flag.Kind.NEEDS_DISCUSSION, resolved_at__isnull=True):
        flag.resolved_at, flag.resolved_by = timezone.now(), by
        flag.resolution_note = f"Discussed at the case review of {review.reviewed_on:%Y-%m-%d}."
        flag._history_user = by
        flag.save(update_fields=["resolved_at", "resolved_by", "resolution_note"])


@transaction.atomic
def amend(*, review: CaseReview, by, text: str) -> Amendment:
    review = CaseReview.objects.select_for_update().get(pk=review.pk)
    if not review.is_signed:
        raise ValidationError("A draft is edited, not amended.")
    if by.pk != review.consultant_id and by.role != Role.PSYCHIATRIC_CONSULTANT:
        raise PermissionDenied("Only a psychiatric consultant amends a consultation note.")
    if not text.strip():
        raise ValidationError({"text": "Write the amendment."})
    amendment = Amendment(review=review, text=text.strip(), amended_at=timezone.now(), amended_by=by)
    amendment._history_user = by
    amendment.save()
    return amendment


def _locked(recommendation: Recommendation, *allowed: str) -> Recommendation:
    recommendation = (
        Recommendation.objects.select_for_update().select_related("review", "episode").get(pk=recommendation.pk)
    )
    if not recommendation.review.is_signed:
        raise ValidationError("The note is not signed yet.")
    if recommendation.status not in allowed:
        raise ValidationError(f"This recommendation is {recommendation.get_status_display().lower()}.")
    return recommendation


def _save(recommendation: Recommendation, by, fields: list[str]) -> Recommendation:
    recommendation._history_user = by
    recommendation.save(update_fields=["status", *fields])
    episode_changed(recommendation.episode)
    return recommendation


@transaction.atomic
def communicate(*, recommendation: Recommendation, by, when: datetime.datetime, how: str) -> Recommendation:
    """The care manager carried the recommendation to the PCP: when and how."""
    recommendation = _locked(recommendation, Status.PENDING)
    if how not in Recommendation.Channel.values:
        raise ValidationError({"how": "Say how it reached the PCP."})
    if when > timezone.now():
        raise ValidationError({"when": "That time is in the future."})
    if timezone.localdate(when) < recommendation.recommended_on:
        raise ValidationError({"when": "That is before the recommendation was made."})
    recommendation.status = Status.COMMUNICATED
    recommendation.communicated_at, recommendation.communicated_how, recommendation.communicated_by = when, how, by
    return _save(recommendation, by, ["communicated_at", "communicated_how", "communicated_by"])


RESPONSES = [Status.ACCEPTED, Status.MODIFIED, Status.DECLINED]


@transaction.atomic
def respond(*, recommendation: Recommendation, by, response: str, note: str = "") -> Recommendation:
    """The PCP's answer, recorded by the PCP in the app or by the care manager who heard it.
    A PCP answering in the app has received it: that counts as communicated, in CareReg."""
    recommendation = _locked(recommendation, Status.PENDING, Status.COMMUNICATED)
    if response not in RESPONSES:
        raise ValidationError({"response": "Choose accepted, accepted with changes, or declined."})
    if response in (Status.MODIFIED, Status.DECLINED) and not note.strip():
        raise ValidationError({"note": "Say what was changed, or why it was declined."})
    fields = ["responded_at", "responded_by", "response_note"]
    if recommendation.status == Status.PENDING:
        recommendation.communicated_at, recommendation.communicated_how = timezone.now(), Recommendation.Channel.IN_APP
        recommendation.communicated_by = by
        fields += ["communicated_at", "communicated_how", "communicated_by"]
    recommendation.status = response
    recommendation.responded_at, recommendation.responded_by, recommendation.response_note = (
        timezone.now(),
        by,
        note.strip(),
    )
    return _save(recommendation, by, fields)


@transaction.atomic
def mark_implemented(*, recommendation: Recommendation, by, on: datetime.date) -> Recommendation:
    recommendation = _locked(recommendation, Status.ACCEPTED, Status.MODIFIED)
    if on > timezone.localdate():
        raise ValidationError({"on": "That date is in the future."})
    if on < recommendation.recommended_on:
        raise ValidationError({"on": "That is before the recommendation was made."})
    recommendation.status = Status.IMPLEMENTED
    recommendation.implemented_on, recommendation.implemented_by = on, by
    return _save(recommendation, by, ["implemented_on", "implemented_by"])


@transaction.atomic
def mark_implemented_with_medication(
    *,
    recommendation: Recommendation,
    by,
    on: datetime.date,
    update_list: bool = False,
    medication: Medication | None = None,
    name: str = "",
    dose: str = "",
    instructions: str = "",
    stop_reason: str = "",
) -> Recommendation:
    """Implemented, and the episode's medication list changed to match: both or neither. A start
    adds the medication (prescribed by the patient's PCP, from the implementation date); a change
    or a dose adjustment edits the medication on the list (history keeps the old dose), or adds
    it when it is not there; a stop stops it."""
    recommendation = mark_implemented(recommendation=recommendation, by=by, on=on)
    if not update_list:
        return recommendation
    episode = recommendation.episode
    if medication is not None and medication.episode_id != episode.pk:
        raise ValidationError({"medication": "That medication is not on this episode's list."})
    if recommendation.kind == Recommendation.Kind.STOP_MEDICATION:
        if medication is None:
            raise ValidationError({"medication": "Choose the medication that was stopped."})
        care_services.stop_medication(medication=medication, by=by, stopped_on=on, reason=stop_reason)
    elif medication is not None:
        care_services.update_medication(
            medication=medication,
            by=by,
            name=name,
            dose=dose,
            instructions=instructions,
            started_on=medication.started_on,
            prescriber=medication.prescriber,
            prescriber_name=medication.prescriber_name,
        )
    else:
        pcp = _current(episode).patient.pcp
        care_services.add_medication(
            episode=episode, by=by, name=name, dose=dose, instructions=instructions, started_on=on, prescriber=pcp
        )
    return recommendation
