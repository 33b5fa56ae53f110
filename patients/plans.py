"""The care manager's plans for an episode: the initial assessment, the treatment plan and
its changes, the relapse prevention plan (docs/user-guide.md#initial-assessment,
docs/user-guide.md#treatment-plan-and-its-changes, docs/user-guide.md#relapse-prevention), and
the suggestion to discharge after months without contact (docs/clinical-definitions.md#episodes-and-status).

Every write: keyword-only arguments, an explicit actor, one transaction, history as `by`.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import DateField, Expression, Model, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from carereg.lib.expressions import AddDays, DaysBetween
from carereg.lib.saving import save_checked
from patients import services
from patients.diagnoses import COMMON_DIAGNOSES, clean_diagnoses
from patients.models import Episode, InitialAssessment, PlanChange, RelapsePreventionPlan, TreatmentPlan

ASSESSMENT_FIELDS = [
    "presenting_problems",
    "diagnoses",
    "alcohol_use",
    "tobacco_use",
    "cannabis_use",
    "other_drug_use",
    "substance_use_notes",
    "current_suicidal_ideation",
    "past_suicide_attempts",
    "access_to_means",
    "safety_notes",
    "stressors",
    "supports",
    "patient_goals",
]
RELAPSE_PLAN_FIELDS = list(RelapsePreventionPlan.REQUIRED)

# What the registry answers for the plans, registered when Django is ready (registry/contributions.py,
# docs/architecture.md#layering): told of current suicidal ideation found at an initial assessment,
# inside its transaction (the registry raises a safety flag), and the clinic's days without a
# completed contact before discharge is suggested, as an SQL expression from the episode.
SUICIDAL_IDEATION_RECORDED: list[Callable[..., object]] = []  # each called with episode=, by=
DISCHARGE_AFTER_DAYS: list[Callable[[], Expression]] = []

# The consults app's recommendation model, which this app may not name.
R = TypeVar("R", bound=Model)


@dataclass(frozen=True)
class Recommendations(Generic[R]):
    """The consultant's recommendations a plan change may come from, as the consults app provides
    them (consults/contributions.py, docs/architecture.md#layering)."""

    visible_to: Callable[[object], QuerySet[R]]  # those the user may see, with their episode and note
    of_signed_notes: Callable[[Episode], QuerySet[R]]  # the episode's, in signed notes, with their note
    is_implemented: Callable[[R], bool]
    reason_from: Callable[[R], tuple[str, str]]  # the prefilled reason and change


RECOMMENDATIONS: list[Recommendations[Any]] = []


def recommendations() -> Recommendations[Any]:
    return RECOMMENDATIONS[0]


CRISIS_LINE = "988"


# --- Diagnoses ------------------------------------------------------------------------------


def parse_diagnoses(text: str) -> list[dict]:
    """One diagnosis a line, its ICD-10-CM code first and its label after ("F32.1 Major depressive
    disorder ..."); a common code without a label gets its usual one. The code's shape is checked
    by the rule the consultation note uses too (patients/diagnoses.py), so both agree."""
    diagnoses: list[dict] = []
    for line in text.replace(";", "\n").splitlines():
        line = line.strip()
        if not line:
            continue
        code, _, label = line.partition(" ")
        (code,) = clean_diagnoses([code.rstrip(",:")])
        label = label.strip(" -:,\N{EN DASH}") or COMMON_DIAGNOSES.get(code, "")
        if any(d["code"] == code for d in diagnoses):
            raise ValidationError({"diagnoses": f"{code} is listed twice."})
        diagnoses.append({"code": code, "label": label})
    return diagnoses


def diagnoses_text(diagnoses: list[dict]) -> str:
    return "\n".join(f"{d['code']} {d['label']}".strip() for d in diagnoses)


# --- Shared checks --------------------------------------------------------------------------


def _lock_open_episode(episode: Episode) -> Episode:
    """The episode as it is now, locked: plans change only while it is open."""
    episode = Episode.objects.select_for_update().select_related("patient").get(pk=episode.pk)
    if not episode.is_open:
        raise ValidationError("This episode is discharged; its plans are kept as they were.")
    return episode


def _check_day(episode: Episode, day: datetime.date, field: str) -> None:
    if day > timezone.localdate():
        raise ValidationError({field: "The date cannot be in the future."})
    if day < episode.enrolled_on:
        raise ValidationError({field: f"The date is before this episode began ({episode.enrolled_on:%Y-%m-%d})."})


def _save(instance, by) -> None:
    save_checked(instance, by, exclude=["episode", "completed_by", "recorded_by", "updated_by"])


# --- Initial assessment ---------------------------------------------------------------------


@transaction.atomic
def save_initial_assessment(
    *, episode: Episode, by, completed_on: datetime.date | None = None, move_to_active: bool = False, **fields
) -> InitialAssessment:
    """Write (or revise) the episode's initial assessment; dated, it is complete. With
    move_to_active an enrolled episode moves to active treatment on that date, together (offered,
    never forced: the assessment may be written before treatment begins)."""
    episode = _lock_open_episode(episode)
    unknown = set(fields) - set(ASSESSMENT_FIELDS)
    if unknown:
        raise TypeError(f"Not fields of the initial assessment: {sorted(unknown)}")
    assessment = InitialAssessment.objects.filter(episode=episode).first() or InitialAssessment(episode=episode)
    had_ideation = assessment.current_suicidal_ideation is True
    for name, value in fields.items():
        setattr(assessment, name, value)
    if completed_on is not None:
        _check_day(episode, completed_on, "completed_on")
        errors = {}
        if not assessment.presenting_problems.strip():
            errors["presenting_problems"] = "Describe the presenting problems before completing the assessment."
        for name in ("current_suicidal_ideation", "past_suicide_attempts", "access_to_means"):
            if getattr(assessment, name) is None:
                label = InitialAssessment._meta.get_field(name).verbose_name
                errors[name] = f"Answer yes or no: {label.lower()}."
        if errors:
            raise ValidationError(errors)
        if assessment.completed_on is None or assessment.completed_on != completed_on:
            assessment.completed_by = by
        assessment.completed_on = completed_on
    else:
        assessment.completed_on = assessment.completed_by = None
    _save(assessment, by)
    if assessment.current_suicidal_ideation is True and not had_ideation:
        # Current suicidal ideation found at assessment is a safety matter now (docs/clinical-definitions.md#safety).
        for listener in SUICIDAL_IDEATION_RECORDED:
            listener(episode=episode, by=by)
    if move_to_active:
        if completed_on is None:
            raise ValidationError({"completed_on": "Date the completed assessment to move to active treatment."})
        services.change_status(episode=episode, status=Episode.Status.ACTIVE, on=completed_on, by=by)
    return assessment


# --- Treatment plan and its changes ---------------------------------------------------------


@transaction.atomic
def save_treatment_plan(
    *, episode: Episode, by, goals: str, current_treatments: str, target: str = TreatmentPlan.DEFAULT_TARGET
) -> TreatmentPlan:
    episode = _lock_open_episode(episode)
    if not target.strip():
        raise ValidationError({"target": "Give the treatment target, e.g. PHQ-9 < 5 or 50% reduction."})
    plan = TreatmentPlan.objects.filter(episode=episode).first() or TreatmentPlan(episode=episode)
    plan.goals, plan.target, plan.current_treatments = goals.strip(), target.strip(), current_treatments.strip()
    plan.updated_by = by
    _save(plan, by)
    return plan


@transaction.atomic
def record_plan_change(
    *,
    episode: Episode,
    by,
    changed_on: datetime.date,
    reason: str,
    what_changed: str,
    recommendation=None,
) -> PlanChange:
    """A dated change to the treatment plan with its reason
    (docs/user-guide.md#treatment-plan-and-its-changes), linked to the consultant's recommendation
    it came from when there is one: a recommendation of this same episode."""
    episode = _lock_open_episode(episode)
    _check_day(episode, changed_on, "changed_on")
    errors = {}
    if not reason.strip():
        errors["reason"] = "Say why the plan changed (e.g. not improving at 10 weeks: consultant recommended ...)."
    if not what_changed.strip():
        errors["what_changed"] = "Say what changed."
    if recommendation is not None:
        if recommendation.episode_id != episode.pk:
            errors["recommendation"] = "That recommendation belongs to another episode of care."
        elif recommendation.review.signed_at is None:
            errors["recommendation"] = "That recommendation is in an unsigned draft note."
    if errors:
        raise ValidationError(errors)
    change = PlanChange(
        episode=episode,
        changed_on=changed_on,
        reason=reason.strip(),
        what_changed=what_changed.strip(),
        recommendation=recommendation,
        recorded_by=by,
    )
    try:
        with transaction.atomic():
            _save(change, by)
    except IntegrityError:
        if recommendation is not None and PlanChange.objects.filter(recommendation=recommendation).exists():
            raise ValidationError({"recommendation": "A plan change already records this recommendation."}) from None
        raise
    return change


def record_plan_change_from(*, recommendation, by) -> PlanChange:
    """One click from an implemented recommendation: its reason and change prefilled, dated the
    day it was implemented."""
    if not recommendations().is_implemented(recommendation):
        raise ValidationError({"recommendation": "Only an implemented recommendation changes the plan."})
    reason, what = recommendations().reason_from(recommendation)
    return record_plan_change(
        episode=recommendation.episode,
        by=by,
        changed_on=recommendation.implemented_on,
        reason=reason,
        what_changed=what,
        recommendation=recommendation,
    )


@transaction.atomic
def mark_plan_change_entered_in_error(*, change: PlanChange, by, reason: str) -> PlanChange:
    change = PlanChange.objects.select_for_update().get(pk=change.pk)
    if not reason.strip():
        raise ValidationError({"reason": "Say why this plan change was entered in error."})
    if change.is_entered_in_error:
        raise ValidationError("This plan change is already marked entered in error.")
    change.entered_in_error_at, change.entered_in_error_by = timezone.now(), by
    change.entered_in_error_reason = reason.strip()
    change._history_user = by
    change.save(update_fields=["entered_in_error_at", "entered_in_error_by", "entered_in_error_reason"])
    return change


# --- Relapse prevention plan ----------------------------------------------------------------


@transaction.atomic
def save_relapse_plan(
    *,
    episode: Episode,
    by,
    completed_on: datetime.date | None = None,
    move_to_relapse_prevention: bool = False,
    **fields,
) -> RelapsePreventionPlan:
    """Write (or revise) the relapse prevention plan; dated, every part must be written. With
    move_to_relapse_prevention the episode moves to relapse prevention on that date, together."""
    episode = _lock_open_episode(episode)
    unknown = set(fields) - set(RELAPSE_PLAN_FIELDS)
    if unknown:
        raise TypeError(f"Not fields of the relapse prevention plan: {sorted(unknown)}")
    plan = RelapsePreventionPlan.objects.filter(episode=episode).first() or RelapsePreventionPlan(episode=episode)
    for name, value in fields.items():
        setattr(plan, name, value.strip())
    if completed_on is not None:
        _check_day(episode, completed_on, "completed_on")
        missing = {
            name: f"Write the {label} before completing the plan."
            for name, label in RelapsePreventionPlan.REQUIRED.items()
            if not getattr(plan, name)
        }
        if missing:
            raise ValidationError(missing)
        if plan.completed_on != completed_on:
            plan.completed_by = by
        plan.completed_on = completed_on
    else:
        plan.completed_on = plan.completed_by = None
    _save(plan, by)
    if move_to_relapse_prevention:
        if completed_on is None:
            raise ValidationError({"completed_on": "Date the completed plan to move to relapse prevention."})
        services.change_status(episode=episode, status=Episode.Status.RELAPSE_PREVENTION, on=completed_on, by=by)
    return plan


# --- Suggested discharges -------------------------------------------------------------------


def suggested_discharges(
    episodes: QuerySet[Episode], today: datetime.date, *, open_only: bool = True
) -> QuerySet[Episode]:
    """Open episodes with no completed contact for the clinic's no-contact days (182 by default),
    counted from the last completed contact or, with none, from enrollment. One set-based query.
    With open_only=False: every episode given, annotated with the day discharge is suggested."""
    since = Coalesce("last_contact_on", "enrolled_on")
    annotated = (episodes.open() if open_only else episodes).annotate(
        no_contact_since=since,
        days_without_contact=DaysBetween(Value(today, output_field=DateField()), since),
        discharge_suggested_on=AddDays(since, DISCHARGE_AFTER_DAYS[0]()),
    )
    return annotated.filter(discharge_suggested_on__lte=today) if open_only else annotated


def with_plans(episodes: QuerySet[Episode], today: datetime.date) -> QuerySet[Episode]:
    """Episodes with their plans and the day discharge is suggested, in the same query."""
    return suggested_discharges(episodes, today, open_only=False).select_related(
        "assessment__completed_by", "treatment_plan__updated_by", "relapse_plan__completed_by"
    )


def is_suggested_for_discharge(episode: Episode, today: datetime.date) -> bool:
    return suggested_discharges(Episode.objects.filter(pk=episode.pk), today).exists()


@transaction.atomic
def discharge_for_no_contact(*, episode: Episode, by, on: datetime.date) -> Episode:
    """The suggested discharge, done: only while the rule still holds (someone may have reached
    the patient since the list was drawn)."""
    if not is_suggested_for_discharge(episode, on):
        raise ValidationError("This patient has had a completed contact recently: not discharged.")
    last = episode.last_contact_on
    note = f"No completed contact since {last:%Y-%m-%d}." if last else "No completed contact since enrollment."
    return services.change_status(
        episode=episode,
        status=Episode.Status.DISCHARGED,
        on=on,
        by=by,
        discharge_reason=Episode.DischargeReason.NO_CONTACT,
        discharge_note=note,
    )
