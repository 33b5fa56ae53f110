"""Celery jobs that keep the caseload's flags true (scheduled in carereg/celery.py)."""

import logging

from carereg.tasks import task
from patients.models import Episode
from registry import digest, flags

log = logging.getLogger(__name__)


@task
def refresh_episode_flags(episode_id: int) -> None:
    """After a contact, score or status change: the rules, for that episode, as it is now."""
    result = flags.refresh_flags(Episode.objects.filter(pk=episode_id))
    log.info("Flags of episode %s refreshed: %s changed", episode_id, result.changed)


@task
def refresh_flags_of_episodes(episode_ids: list[int]) -> None:
    """After a bulk write (an import): the rules, once, for every episode it touched."""
    result = flags.refresh_flags(Episode.objects.filter(pk__in=episode_ids))
    log.info("Flags of %s episodes refreshed: %s changed", len(episode_ids), result.changed)


@task
def refresh_all_flags() -> None:
    result = flags.refresh_flags()
    log.info("All flags refreshed: raised %s, resolved %s", result.raised, result.resolved)


@task
def send_flag_digests() -> None:
    sent = digest.send_digests()
    log.info("Flag digests sent: %s", sent)
