"""Celery jobs that keep the caseload's flags true (scheduled in carereg/celery.py).

What must be refreshed is recorded in the database with the change (registry/outbox.py); these
tasks drain it. The per-save task is the fast path; `drain_flag_refreshes`, every minute or
two, finishes whatever a lost message, a task that gave up or a dead worker left pending.
"""

import logging

from carereg.tasks import task
from registry import digest, outbox

log = logging.getLogger(__name__)


@task
def refresh_episode_flags(episode_id: int) -> None:
    """After a contact, score or status change: the rules, for that episode, as it is now."""
    done = outbox.drain(episode_ids=[episode_id])
    log.info("Flags of episode %s refreshed (%s requests done)", episode_id, done)


@task
def refresh_flags_of_episodes(episode_ids: list[int]) -> None:
    """After a bulk write (an import): the rules, once, for every episode it touched."""
    done = outbox.drain(episode_ids=episode_ids)
    log.info("Flags of %s episodes refreshed (%s requests done)", len(episode_ids), done)


@task
def refresh_all_flags() -> None:
    """Every night (time alone makes patients overdue), and after a clinic's thresholds change.

    The request is committed before the work starts: if this worker dies half way, the sweep
    claims it again once its lease has run out."""
    outbox.request_full_refresh()
    done = outbox.drain()
    log.info("All flags refreshed (%s requests done)", done)


@task
def drain_flag_refreshes() -> None:
    """The sweep: every refresh still pending, whatever kept it from being done at once."""
    done = outbox.drain()
    if done:
        log.info("Flag refresh sweep: %s requests done", done)


@task
def send_flag_digests() -> None:
    sent = digest.send_digests()
    log.info("Flag digests sent: %s", sent)
