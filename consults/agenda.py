"""The weekly caseload review agenda, built from the open flags (clinical-rules 6).

One agenda per care manager and psychiatric consultant each week: safety first, then not
improving, then new patients, then the rest. Building again adds patients flagged since,
updates the reasons, and leaves alone what the care manager removed or reordered.
"""

import datetime
import zoneinfo
from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from accounts.models import Clinic
from consults.models import Agenda, AgendaItem
from patients.models import Episode
from registry.bulk import bulk_create_with_history
from registry.models import Flag, RegistrySettings

RANK = {kind: rank for rank, kind in enumerate(Flag.PRIORITY)}


def _flagged_episodes(clinic: Clinic) -> dict[tuple[int, int | None], dict[int, list[str]]]:
    """(care manager, consultant) -> episode -> its open flag kinds, most urgent first."""
    open_flags = (
        Flag.objects.filter(
            episode__patient__clinic=clinic, resolved_at__isnull=True, episode__patient__care_manager__isnull=False
        )
        .exclude(episode__status=Episode.Status.DISCHARGED)
        .values_list(
            "episode_id", "kind", "episode__patient__care_manager_id", "episode__patient__psychiatric_consultant_id"
        )
    )
    teams: dict = defaultdict(lambda: defaultdict(list))
    for episode_id, kind, care_manager_id, consultant_id in open_flags:
        teams[(care_manager_id, consultant_id)][episode_id].append(kind)
    for episodes in teams.values():
        for kinds in episodes.values():
            kinds.sort(key=RANK.__getitem__)
    return teams


@transaction.atomic
def build_agendas(clinic: Clinic, week_of: datetime.date) -> list[Agenda]:
    now = timezone.now()
    agendas = []
    for (care_manager_id, consultant_id), episodes in _flagged_episodes(clinic).items():
        agenda, _ = Agenda.objects.get_or_create(
            clinic=clinic,
            week_of=week_of,
            care_manager_id=care_manager_id,
            consultant_id=consultant_id,
            defaults={"built_at": now},
        )
        _merge(agenda, episodes)
        agendas.append(agenda)
    return agendas


def _merge(agenda: Agenda, episodes: dict[int, list[str]]) -> None:
    existing = {item.episode_id: item for item in agenda.items.all()}
    for item in existing.values():
        kinds = episodes.get(item.episode_id, [])
        if item.added_by_id is None and kinds != item.reasons:
            item.reasons = kinds
            item.save(update_fields=["reasons"])
    position = max((item.position for item in existing.values()), default=0)
    new = sorted((e for e in episodes if e not in existing), key=lambda e: (RANK[episodes[e][0]], e))
    items = [
        AgendaItem(agenda=agenda, episode_id=episode_id, position=number, reasons=episodes[episode_id])
        for number, episode_id in enumerate(new, start=position + 1)
    ]
    bulk_create_with_history(items, by=None)


def clinic_today(clinic: Clinic, now: datetime.datetime | None = None) -> datetime.date:
    return timezone.localtime(now or timezone.now(), timezone=zoneinfo.ZoneInfo(clinic.timezone)).date()


def build_due_agendas(now: datetime.datetime | None = None) -> int:
    """Build each clinic's agenda on its chosen weekday, from its chosen hour; once a day."""
    now = now or timezone.now()
    built = 0
    for clinic in Clinic.objects.select_related("registry_settings"):
        settings = RegistrySettings.for_clinic(clinic)
        local = timezone.localtime(now, timezone=zoneinfo.ZoneInfo(clinic.timezone))
        if local.weekday() != settings.agenda_weekday or local.hour < settings.agenda_hour:
            continue
        if Agenda.objects.filter(clinic=clinic, week_of=local.date()).exists():
            continue
        build_agendas(clinic, local.date())
        built += 1
    return built
