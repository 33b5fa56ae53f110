"""The weekly caseload review agenda, built from the open flags (docs/clinical-definitions.md#weekly-caseload-review).

One agenda per care manager and psychiatric consultant each week: safety first, then not
improving, then new patients, then the rest. Until its meeting is held the agenda is live:
opening it (and the weekly build) reconciles it with the patients' current flags and
requests, adding patients flagged since, marking those whose reasons have all cleared
("reason cleared", never silently dropped) and leaving alone what the care manager removed
or reordered. Once held it is the record of the meeting (docs/user-guide.md#a-live-agenda).
"""

import datetime
import zoneinfo
from collections import defaultdict

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Clinic
from carereg.dates import clinic_today
from carereg.lib.bulk import bulk_create_with_history, copy_into_history
from consults.models import Agenda, AgendaItem, CaseReview
from consults.safety_review import pending_safety_reviews
from consults.services import add_to_agenda
from patients.models import Episode
from registry.models import Flag, RegistrySettings

RANK = {kind: rank for rank, kind in enumerate(Flag.PRIORITY)}
Team = tuple[int, int | None]  # (care manager, consultant)


def _team_filter(team: Team | None, prefix: str) -> Q:
    if team is None:
        return Q()
    care_manager_id, consultant_id = team
    return Q(**{f"{prefix}care_manager_id": care_manager_id, f"{prefix}psychiatric_consultant_id": consultant_id})


def _flagged_episodes(clinic: Clinic, team: Team | None = None) -> dict[Team, dict[int, list[str]]]:
    """(care manager, consultant) -> episode -> its reasons, most urgent first: the open flags,
    and "safety" while a safety assessment waits for the consultant's review. Two queries,
    whatever the number of patients."""
    columns = ("episode_id", "episode__patient__care_manager_id", "episode__patient__psychiatric_consultant_id")
    in_clinic = Q(episode__patient__clinic=clinic, episode__patient__care_manager__isnull=False)
    in_clinic &= _team_filter(team, "episode__patient__")
    open_flags = (
        Flag.objects.filter(in_clinic, resolved_at__isnull=True)
        .exclude(episode__status=Episode.Status.DISCHARGED)
        .values_list("kind", *columns)
    )
    safety_reviews = (
        pending_safety_reviews()
        .filter(in_clinic)
        .exclude(episode__status=Episode.Status.DISCHARGED)
        .values_list(*columns)
    )
    teams: dict = defaultdict(lambda: defaultdict(set))
    for kind, episode_id, care_manager_id, consultant_id in open_flags:
        teams[(care_manager_id, consultant_id)][episode_id].add(kind)
    for episode_id, care_manager_id, consultant_id in safety_reviews:
        teams[(care_manager_id, consultant_id)][episode_id].add(Flag.Kind.SAFETY)
    return {
        key: {episode_id: sorted(kinds, key=RANK.__getitem__) for episode_id, kinds in episodes.items()}
        for key, episodes in teams.items()
    }


@transaction.atomic
def build_agendas(clinic: Clinic, week_of: datetime.date, now: datetime.datetime | None = None) -> list[Agenda]:
    now = now or timezone.now()
    agendas = []
    for (care_manager_id, consultant_id), episodes in _flagged_episodes(clinic).items():
        agenda, _ = Agenda.objects.get_or_create(
            clinic=clinic,
            week_of=week_of,
            care_manager_id=care_manager_id,
            consultant_id=consultant_id,
            defaults={"built_at": now},
        )
        if not agenda.is_held:
            _merge(agenda, episodes)
        agendas.append(agenda)
    # Those made earlier (by a request, for its team alone) count as built now: build_due_agendas.
    Agenda.objects.filter(pk__in=[agenda.pk for agenda in agendas], built_at__lt=now).update(built_at=now)
    return agendas


@transaction.atomic
def reconcile(agenda: Agenda) -> None:
    """Bring an agenda not yet held up to the patients' current flags and requests. The agenda
    row is locked first, so two people opening it at once add each patient once."""
    if agenda.is_held:
        return
    locked = Agenda.objects.select_for_update().get(pk=agenda.pk)
    if locked.is_held:
        agenda.held_at, agenda.held_by_id = locked.held_at, locked.held_by_id
        return
    team = (agenda.care_manager_id, agenda.consultant_id)
    _merge(agenda, _flagged_episodes(agenda.clinic, team).get(team, {}))


def _merge(agenda: Agenda, episodes: dict[int, list[str]]) -> None:
    """Set-based: one read of the items, one update of those whose reasons changed, one insert
    of the newly flagged, at the end in order of urgency. Hand-added and removed items are the
    care manager's and stay as they are."""
    discussed = Exists(CaseReview.objects.filter(agenda_item=OuterRef("pk")))
    existing = {item.episode_id: item for item in agenda.items.annotate(discussed=discussed)}
    now = timezone.now()
    changed = [item for item in existing.values() if _follow_flags(item, episodes.get(item.episode_id, []), now)]
    if changed:
        AgendaItem.objects.bulk_update(changed, ["reasons", "reason_cleared_at"])
        copy_into_history(AgendaItem, [item.pk for item in changed], by=None, change="~")
    position = max((item.position for item in existing.values()), default=0)
    new = sorted((e for e in episodes if e not in existing), key=lambda e: (RANK[episodes[e][0]], e))
    items = [
        AgendaItem(agenda=agenda, episode_id=episode_id, position=number, reasons=episodes[episode_id])
        for number, episode_id in enumerate(new, start=position + 1)
    ]
    bulk_create_with_history(items, by=None)


def _follow_flags(item: AgendaItem, kinds: list[str], now: datetime.datetime) -> bool:
    """Update an item the flags put here to its current reasons; True when it changed. When
    every reason has cleared the item keeps them, marked cleared, for the meeting to see."""
    if item.added_by_id is not None or item.removed_at is not None or getattr(item, "discussed", False):
        return False  # the care manager's, or discussed at this meeting: as they are
    if kinds and (kinds != item.reasons or item.reason_cleared_at):
        item.reasons, item.reason_cleared_at = kinds, None
        return True
    if not kinds and item.reason_cleared_at is None:
        item.reason_cleared_at = now
        return True
    return False


def next_agenda(clinic: Clinic, team: Team, today: datetime.date | None = None) -> Agenda:
    """The team's next meeting not yet held, from today on; when there is none, the agenda of the
    clinic's next agenda day (its first free week), created now."""
    today = today or clinic_today(clinic)
    care_manager_id, consultant_id = team
    agendas = Agenda.objects.filter(clinic=clinic, care_manager_id=care_manager_id, consultant_id=consultant_id)
    upcoming = (
        agendas.filter(held_at__isnull=True)
        .annotate(meets=Coalesce("meeting_on", "week_of"))
        .filter(meets__gte=today)
        .order_by("meets", "pk")
        .first()
    )
    if upcoming:
        return upcoming
    weekday = RegistrySettings.for_clinic(clinic).agenda_weekday
    day = today + datetime.timedelta(days=(weekday - today.weekday()) % 7)
    taken = set(agendas.filter(week_of__gte=day).values_list("week_of", flat=True))
    while day in taken:  # held already, or meeting earlier than today
        day += datetime.timedelta(days=7)
    agenda, _ = Agenda.objects.get_or_create(
        clinic=clinic,
        week_of=day,
        care_manager_id=care_manager_id,
        consultant_id=consultant_id,
        defaults={"built_at": timezone.now()},
    )
    return agenda


@transaction.atomic
def put_on_next_agenda(episode: Episode, by) -> Agenda | None:
    """A patient asked for (a case review request, a safety notice) is on the team's next agenda,
    put back if the care manager had taken them off it. None without a care manager: agendas
    are per care manager."""
    patient = episode.patient
    if patient.care_manager_id is None:
        return None
    agenda = next_agenda(patient.clinic, (patient.care_manager_id, patient.psychiatric_consultant_id))
    reconcile(agenda)
    item = agenda.items.filter(episode=episode).first()
    if item is None or item.removed_at is not None:
        add_to_agenda(agenda=agenda, episode=episode, by=by)
    return agenda


def build_due_agendas(now: datetime.datetime | None = None) -> int:
    """Build each clinic's agenda on its chosen weekday, from its chosen hour; once a day."""
    now = now or timezone.now()
    built = 0
    for clinic in Clinic.objects.select_related("registry_settings"):
        settings = RegistrySettings.for_clinic(clinic)
        local = timezone.localtime(now, timezone=zoneinfo.ZoneInfo(clinic.timezone))
        if local.weekday() != settings.agenda_weekday or local.hour < settings.agenda_hour:
            continue
        # Built today from the hour on; an agenda a request made earlier, for one team, does not count.
        from_hour = local.replace(hour=settings.agenda_hour, minute=0, second=0, microsecond=0)
        if Agenda.objects.filter(clinic=clinic, week_of=local.date(), built_at__gte=from_hour).exists():
            continue
        build_agendas(clinic, local.date(), now)
        built += 1
    return built
