"""Writes to patients and episodes: enrollment, demographics, status changes."""

import datetime
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from accounts.models import Clinic, Role
from patients.models import Episode, Patient, RelapsePreventionPlan

# Told of every episode enrolled or whose status changed, inside the writer's transaction: the
# registry registers its flag refresh (registry/contributions.py, docs/architecture.md#layering).
EPISODE_CHANGED: list[Callable[[Episode], None]] = []


def _episode_changed(episode: Episode) -> None:
    for listener in EPISODE_CHANGED:
        listener(episode)


CARE_TEAM_ROLES = {
    "care_manager": Role.CARE_MANAGER,
    "psychiatric_consultant": Role.PSYCHIATRIC_CONSULTANT,
    "pcp": Role.MEDICAL_PROVIDER,
}


def care_team_errors(clinic: Clinic, fields: dict) -> dict[str, str]:
    """Each member of the care team works in the patient's clinic, in the matching role."""
    errors = {}
    for field, role in CARE_TEAM_ROLES.items():
        member = fields.get(field)
        if member is None:
            continue
        if member.role != role:
            errors[field] = f"{member} is not a {Role(role).label.lower()}."
        elif not member.clinics.filter(pk=clinic.pk).exists():
            errors[field] = f"{member} does not work at {clinic.name}."
    return errors


def check_care_team(clinic: Clinic, fields: dict) -> None:
    errors = care_team_errors(clinic, fields)
    if errors:
        raise ValidationError(errors)


def _enrollment_date_errors(enrolled_on: datetime.date) -> dict[str, str]:
    if enrolled_on > timezone.localdate():
        return {"enrolled_on": "The enrollment date cannot be in the future."}
    return {}


def _check_enrollment_date(enrolled_on: datetime.date) -> None:
    errors = _enrollment_date_errors(enrolled_on)
    if errors:
        raise ValidationError(errors)


def enrollment_errors(*, clinic: Clinic, enrolled_on: datetime.date | None, **patient_fields) -> dict[str, str]:
    """Every reason this enrollment would be refused, by field, all at once (not the first one
    only), so that the enroll form shows them together. Fields still missing are not checked."""
    errors = care_team_errors(clinic, patient_fields)
    if enrolled_on is not None:
        errors.update(_enrollment_date_errors(enrolled_on))
    mrn = patient_fields.get("mrn")
    if mrn and Patient.objects.filter(clinic=clinic, mrn=mrn).exists():
        errors["mrn"] = f"MRN {mrn} is already registered at {clinic.name}: open that record."
    return errors


def _save_patient(patient: Patient, by) -> None:
    patient._history_user = by
    patient.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            patient.save()
    except IntegrityError:
        if Patient.objects.filter(clinic=patient.clinic, mrn=patient.mrn).exclude(pk=patient.pk).exists():
            raise ValidationError(
                {"mrn": f"MRN {patient.mrn} is already registered at {patient.clinic.name}."}
            ) from None
        raise


@transaction.atomic
def enroll_patient(*, clinic: Clinic, enrolled_on: datetime.date, by, **patient_fields) -> Patient:
    """A new patient and their first episode of care, from the consent date."""
    errors = enrollment_errors(clinic=clinic, enrolled_on=enrolled_on, **patient_fields)
    if errors:
        raise ValidationError(errors)
    patient = Patient(clinic=clinic, **patient_fields)
    _save_patient(patient, by)
    start_episode(patient=patient, enrolled_on=enrolled_on, by=by)
    return patient


STALE_EDIT = "Someone else changed this patient since you opened the page: review and save again."


@transaction.atomic
def update_patient(*, patient: Patient, by, version: int | None = None, **fields) -> Patient:
    """version: the patient's version when the editor opened the page. Claiming the next version
    in one conditional UPDATE refuses a save over someone else's, even at the same instant."""
    rows = Patient.objects.filter(pk=patient.pk)
    if not rows.filter(**({} if version is None else {"version": version})).update(version=F("version") + 1):
        raise ValidationError(STALE_EDIT)
    patient.version = rows.values_list("version", flat=True).get()
    check_care_team(patient.clinic, fields)
    for name, value in fields.items():
        setattr(patient, name, value)
    _save_patient(patient, by)
    return patient


@transaction.atomic
def start_episode(*, patient: Patient, enrolled_on: datetime.date, by) -> Episode:
    """Enroll (again): a new episode with its own baseline. At most one episode is open at a time."""
    _check_enrollment_date(enrolled_on)
    last = patient.episodes.order_by("-enrolled_on").first()
    if last and last.is_open:
        raise ValidationError("This patient already has an open episode of care.")
    if last and last.discharged_on and enrolled_on < last.discharged_on:
        message = f"The new episode must begin on or after the last discharge ({last.discharged_on:%Y-%m-%d})."
        raise ValidationError({"enrolled_on": message})
    episode = Episode(patient=patient, enrolled_on=enrolled_on, status_changed_on=enrolled_on)
    episode._history_user = by
    episode.save()
    _episode_changed(episode)
    return episode


_LOOK_IT_UP = object()


def relapse_plan_missing(episode: Episode, plan=_LOOK_IT_UP) -> str | None:
    """What the episode still lacks for relapse prevention and discharge with goals met, or None.
    A caller that has already fetched the episode's plan (or found none) passes it as plan."""
    if plan is _LOOK_IT_UP:
        plan = RelapsePreventionPlan.objects.filter(episode=episode).first()
    if plan is None:
        return "Write the relapse prevention plan"
    missing = plan.missing()
    if missing:
        return f"Complete the relapse prevention plan ({', '.join(missing)} not written yet) and date it"
    if not plan.is_complete:
        return "Mark the relapse prevention plan completed (its date)"
    return None


def _check_relapse_plan_complete(episode: Episode) -> None:
    # docs/clinical-definitions.md#episodes-and-status: the plan must exist and be complete. Here,
    # not in the form, so that every caller of change_status obeys it (the import of legacy history
    # records what happened elsewhere, through record_imported_status).
    missing = relapse_plan_missing(episode)
    if missing:
        raise ValidationError({"discharge_reason": f"{missing} before discharging with treatment goals met."})


@transaction.atomic
def change_status(
    *,
    episode: Episode,
    status: str,
    on: datetime.date,
    by,
    discharge_reason: str = "",
    discharge_note: str = "",
) -> Episode:
    """Move an episode along its lifecycle (docs/clinical-definitions.md#episodes-and-status);
    discharge needs a date and reason."""
    episode = Episode.objects.select_for_update().get(pk=episode.pk)
    if status not in episode.TRANSITIONS[Episode.Status(episode.status)]:
        current, wanted = episode.get_status_display().lower(), Episode.Status(status).label.lower()
        raise ValidationError({"status": f"An episode in {current} cannot move to {wanted}."})
    if on < episode.enrolled_on:
        raise ValidationError({"on": "The date is before the enrollment date."})
    if on > timezone.localdate():
        raise ValidationError({"on": "The date cannot be in the future."})
    if status == Episode.Status.DISCHARGED:
        if not discharge_reason:
            raise ValidationError({"discharge_reason": "Give the reason for discharge."})
        if discharge_reason == Episode.DischargeReason.GOALS_MET:
            _check_relapse_plan_complete(episode)
        episode.discharged_on = on
        episode.discharge_reason = discharge_reason
        episode.discharge_note = discharge_note
    elif discharge_reason:
        raise ValidationError({"discharge_reason": "A discharge reason goes only with a discharge."})
    return _save_status(episode, status=status, on=on, by=by)


def _save_status(episode: Episode, *, status: str, on: datetime.date, by) -> Episode:
    """The status written with its author in history; the rule flags follow it."""
    episode.status = status
    episode.status_changed_on = on
    episode._history_user = by
    episode.save()
    _episode_changed(episode)
    return episode


@transaction.atomic
def record_imported_status(
    *, episode: Episode, status: str, on: datetime.date, by, discharge_reason: str = ""
) -> Episode:
    """A status the episode reached elsewhere, brought in by an import of its history
    (docs/data-formats.md#files-carereg-reads-the-registry-import). Unlike change_status it may
    skip steps the app walks one at a time (enrolled straight to relapse prevention), and a
    discharge with goals met needs no relapse prevention plan here: it happened already, and its
    plan was kept elsewhere. It never changes a discharge nor takes an episode back to enrolled,
    and a discharge is not dated before the episode's own contacts and scores. The messages name
    the import's columns (status, discharged_on)."""
    episode = Episode.objects.select_for_update().get(pk=episode.pk)
    if episode.status == Episode.Status.DISCHARGED:
        raise ValidationError(
            {
                "status": f"the registry has this episode discharged on {episode.discharged_on:%Y-%m-%d} "
                f"({episode.discharge_reason}); an import does not change a discharge"
            }
        )
    if status == Episode.Status.ENROLLED and episode.status != Episode.Status.ENROLLED:
        on_record = episode.initial_assessment_on
        because = f": it has a completed initial assessment on {on_record:%Y-%m-%d}" if on_record else ""
        raise ValidationError({"status": f"enrolled, but the episode is already {episode.status}{because}"})
    if not episode.enrolled_on <= on <= timezone.localdate():
        raise ValidationError({"on": f"{on:%Y-%m-%d} is not between the enrollment date and today"})
    if status == Episode.Status.DISCHARGED:
        if not discharge_reason:
            raise ValidationError({"discharge_reason": "required when the status is discharged"})
        _check_nothing_after(episode, on)
        episode.discharged_on, episode.discharge_reason = on, discharge_reason
    elif discharge_reason:
        raise ValidationError({"discharge_reason": "A discharge reason goes only with a discharge."})
    return _save_status(episode, status=status, on=on, by=by)


def _check_nothing_after(episode: Episode, discharged_on: datetime.date) -> None:
    last_contact = episode.contacts.valid().aggregate(last=Max("contact_date"))["last"]
    last_score = episode.measurements.valid().aggregate(last=Max("taken_on"))["last"]
    for what, day in (("contact", last_contact), ("score", last_score)):
        if day and day > discharged_on:
            raise ValidationError(
                {"discharged_on": f"{discharged_on:%Y-%m-%d} is before the episode's {what} on {day:%Y-%m-%d}"}
            )
