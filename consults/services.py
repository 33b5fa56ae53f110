"""Writes for case reviews and agendas, each with its actor."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import Role
from consults.models import Agenda, AgendaItem, CaseReview
from patients.models import Episode
from registry.models import Flag
from registry.services import queue_flag_refresh


@transaction.atomic
def record_case_review(*, episode: Episode, reviewed_on: datetime.date, consultant, summary: str, by) -> CaseReview:
    """A patient discussed with the psychiatric consultant. The review clears "new patient",
    restarts the "not improving" clock (clinical-rules 6) and answers a needs-discussion request."""
    episode = Episode.objects.select_related("patient").get(pk=episode.pk)  # as it is now, not as the caller saw it
    if consultant.role != Role.PSYCHIATRIC_CONSULTANT:
        raise ValidationError({"consultant": f"{consultant} is not a psychiatric consultant."})
    if not consultant.clinics.filter(pk=episode.patient.clinic_id).exists():
        raise ValidationError({"consultant": f"{consultant} does not consult for this clinic."})
    if not episode.is_open:
        raise ValidationError("This episode is discharged.")
    if reviewed_on > timezone.localdate():
        raise ValidationError({"reviewed_on": "The review date cannot be in the future."})
    if reviewed_on < episode.enrolled_on:
        raise ValidationError({"reviewed_on": "The review date is before this episode began."})
    review = CaseReview(
        episode=episode, reviewed_on=reviewed_on, consultant=consultant, summary=summary, recorded_by=by
    )
    review._history_user = by
    review.full_clean(exclude=["episode", "consultant", "recorded_by"], validate_constraints=False)
    review.save()
    for flag in Flag.objects.filter(episode=episode, kind=Flag.Kind.NEEDS_DISCUSSION, resolved_at__isnull=True):
        flag.resolved_at, flag.resolved_by = timezone.now(), by
        flag.resolution_note = f"Discussed at the case review of {reviewed_on:%Y-%m-%d}."
        flag._history_user = by
        flag.save(update_fields=["resolved_at", "resolved_by", "resolution_note"])
    queue_flag_refresh(episode)
    return review


def _next_position(agenda: Agenda) -> int:
    return (agenda.items.aggregate(last=Max("position"))["last"] or 0) + 1


@transaction.atomic
def add_to_agenda(*, agenda: Agenda, episode: Episode, by, note: str = "") -> AgendaItem:
    if episode.patient.care_manager_id != agenda.care_manager_id or not episode.is_open:
        raise ValidationError("Only an open episode of this care manager's caseload can be added.")
    item = agenda.items.filter(episode=episode).first()
    if item and item.removed_at is None:
        raise ValidationError("This patient is on the agenda already.")
    if item:  # put back what was removed, at the end
        item.removed_at = item.removed_by = None
    else:
        item = AgendaItem(agenda=agenda, episode=episode, added_by=by)
    item.position, item.note = _next_position(agenda), note or item.note
    item._history_user = by
    item.save()
    return item


@transaction.atomic
def remove_from_agenda(*, item: AgendaItem, by) -> AgendaItem:
    item.removed_at, item.removed_by = timezone.now(), by
    item._history_user = by
    item.save(update_fields=["removed_at", "removed_by"])
    return item


@transaction.atomic
def move_on_agenda(*, item: AgendaItem, by, step: int) -> None:
    """Swap with the neighbour above (step -1) or below (+1) among the items still on the agenda."""
    items = list(item.agenda.items.select_for_update().filter(removed_at__isnull=True).order_by("position", "pk"))
    index = next(i for i, other in enumerate(items) if other.pk == item.pk)
    target = index + step
    if not 0 <= target < len(items):
        return
    items[index], items[target] = items[target], items[index]
    for position, each in enumerate(items, start=1):
        if each.position != position:
            each.position = position
            each._history_user = by
            each.save(update_fields=["position"])


@transaction.atomic
def set_item_question(*, item: AgendaItem, by, note: str) -> AgendaItem:
    item.note = note.strip()
    item._history_user = by
    item.save(update_fields=["note"])
    return item
