"""Writes for case reviews and agendas, each with its actor."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from carereg.lib.bulk import copy_into_history
from consults import notes
from consults.models import Agenda, AgendaItem, CaseReview
from consults.notes import check_consultant, check_review_date
from patients.models import Episode
from registry.services import episode_changed


@transaction.atomic
def record_case_review(*, episode: Episode, reviewed_on: datetime.date, consultant, summary: str, by) -> CaseReview:
    """A review held outside a session, recorded and signed at once (imports, the demo): the
    summary is its assessment. In the app a consultant writes a note and signs it (consults.notes)."""
    episode = Episode.objects.select_related("patient").get(pk=episode.pk)  # as it is now, not as the caller saw it
    check_consultant(consultant, episode)
    if not episode.is_open:
        raise ValidationError("This episode is discharged.")
    check_review_date(episode, reviewed_on)
    if not summary.strip():
        raise ValidationError({"summary": "Say what was discussed."})
    review = CaseReview(
        episode=episode,
        reviewed_on=reviewed_on,
        consultant=consultant,
        assessment=summary.strip(),
        summary=summary.strip(),
        recorded_by=by,
        signed_at=timezone.now(),
    )
    review._history_user = by
    review.full_clean(exclude=["episode", "consultant", "recorded_by"], validate_constraints=False)
    review.save()
    notes._answer_requests_for_discussion(review, by)
    episode_changed(episode)  # deferred to one pass when an import batches its writes
    return review


def _next_position(agenda: Agenda) -> int:
    return (agenda.items.aggregate(last=Max("position"))["last"] or 0) + 1


def check_not_held(agenda: Agenda) -> None:
    if agenda.is_held:
        raise ValidationError("This meeting was held: its agenda is the record of it and no longer changes.")


@transaction.atomic
def add_to_agenda(*, agenda: Agenda, episode: Episode, by, note: str = "") -> AgendaItem:
    check_not_held(agenda)
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
    check_not_held(item.agenda)
    item.removed_at, item.removed_by = timezone.now(), by
    item._history_user = by
    item.save(update_fields=["removed_at", "removed_by"])
    return item


def _on_agenda(agenda: Agenda) -> list[AgendaItem]:
    """The items still on the agenda, in order, locked for the change."""
    return list(agenda.items.select_for_update().filter(removed_at__isnull=True).order_by("position", "pk"))


def _number(items: list[AgendaItem], by) -> None:
    """Positions 1..n in this order: one UPDATE and one history copy for the rows that moved."""
    moved = []
    for position, each in enumerate(items, start=1):
        if each.position != position:
            each.position = position
            moved.append(each)
    if moved:
        AgendaItem.objects.bulk_update(moved, ["position"])
        copy_into_history(AgendaItem, [each.pk for each in moved], by=by, change="~")


@transaction.atomic
def move_on_agenda(*, item: AgendaItem, by, step: int) -> None:
    """Swap with the neighbour above (step -1) or below (+1) among the items still on the agenda."""
    check_not_held(item.agenda)
    items = _on_agenda(item.agenda)
    index = next(i for i, other in enumerate(items) if other.pk == item.pk)
    target = index + step
    if not 0 <= target < len(items):
        return
    items[index], items[target] = items[target], items[index]
    _number(items, by)


@transaction.atomic
def move_to_top(*, item: AgendaItem, by) -> None:
    check_not_held(item.agenda)
    items = _on_agenda(item.agenda)
    _number([each for each in items if each.pk == item.pk] + [each for each in items if each.pk != item.pk], by)


@transaction.atomic
def reorder_agenda(*, agenda: Agenda, order: list[int], by) -> None:
    """The whole new order in one request (drag and drop, the keyboard's moves): every item still
    on the agenda, each once, else nothing changes (the page was stale)."""
    check_not_held(agenda)
    items = {each.pk: each for each in _on_agenda(agenda)}
    if sorted(order) != sorted(items) or len(set(order)) != len(order):
        raise ValidationError("The agenda changed meanwhile: reload it and move the patient again.")
    _number([items[pk] for pk in order], by)


@transaction.atomic
def save_questions(*, agenda: Agenda, questions: dict[int, str], by) -> int:
    """The care manager's questions of several rows, saved together; returns how many changed."""
    check_not_held(agenda)
    items = list(agenda.items.select_for_update().filter(pk__in=questions))
    changed = [each for each in items if each.note != questions[each.pk].strip()]
    for each in changed:
        each.note = questions[each.pk].strip()
    if changed:
        AgendaItem.objects.bulk_update(changed, ["note"])
        copy_into_history(AgendaItem, [each.pk for each in changed], by=by, change="~")
    return len(changed)


@transaction.atomic
def hold_meeting(*, agenda: Agenda, by) -> Agenda:
    """The meeting took place: from now on its agenda is frozen."""
    agenda = Agenda.objects.select_for_update().get(pk=agenda.pk)
    check_not_held(agenda)
    agenda.held_at, agenda.held_by = timezone.now(), by
    agenda._history_user = by
    agenda.save(update_fields=["held_at", "held_by"])
    return agenda


@transaction.atomic
def set_item_question(*, item: AgendaItem, by, note: str) -> AgendaItem:
    check_not_held(item.agenda)
    item.note = note.strip()
    item._history_user = by
    item.save(update_fields=["note"])
    return item
