"""The flag-refresh outbox: flags stay true whatever fails between a save and its refresh.

A change that can alter an episode's rule flags writes a `FlagRefreshRequest` row in its own
transaction, so the request exists exactly when the change does. The Celery message queued
after commit is the fast path; a frequent beat job (`registry.tasks.drain_flag_refreshes`)
drains whatever is still pending: requests whose message never reached the broker (Redis
down), whose task gave up (PostgreSQL down longer than its retries), or whose worker died
half way (the claim's lease runs out and another worker claims the row).

A worker claims rows for a lease, refreshes, then deletes the rows it still holds. A new
request for a claimed episode clears the claim, so that row outlives the claim and is
refreshed again: a change committed while a refresh ran is never counted as done.
See docs/deployment.md#flags-after-a-fault.
"""

import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Subquery
from django.utils import timezone

from patients.models import Episode
from registry import flags
from registry.models import FlagRefreshRequest

BATCH = 500  # episodes refreshed per claim: a few statements per rule, whatever the batch
MAX_BATCHES = 1000  # a drain stops after this many batches; the next sweep goes on


def request_refresh(episode_ids: Iterable[int]) -> None:
    """Record, in the caller's transaction, that these episodes' flags must be refreshed.

    An episode already requested gets its request renewed and any claim on it cleared. The
    ids are sorted so that two transactions requesting overlapping sets lock rows in the
    same order (no deadlock)."""
    now = timezone.now()
    FlagRefreshRequest.objects.bulk_create(
        [FlagRefreshRequest(episode_id=pk, requested_at=now) for pk in sorted(set(episode_ids))],
        update_conflicts=True,
        unique_fields=["episode"],
        update_fields=["requested_at", "claim", "claimed_until"],
    )


def request_full_refresh() -> None:
    """Record that every episode's flags must be refreshed (the nightly run, a settings change)."""
    FlagRefreshRequest.objects.create(episode=None, requested_at=timezone.now())


@dataclass(frozen=True)
class Claim:
    key: uuid.UUID
    episode_ids: list[int]
    rows: int


def drain(*, episode_ids: list[int] | None = None) -> int:
    """Refresh what is requested and not claimed by a live worker: these episodes' requests,
    or (by default) everything pending, the whole registry first. Returns the requests done."""
    done = 0
    if episode_ids is None:
        done += _drain_whole_registry()
    scope = Q(episode__isnull=False) if episode_ids is None else Q(episode_id__in=episode_ids)
    for _ in range(MAX_BATCHES):
        claim = _claim(scope, limit=BATCH)
        if not claim.rows:
            break
        flags.refresh_flags(Episode.objects.filter(pk__in=claim.episode_ids))
        done += _complete(claim)
    return done


def _drain_whole_registry() -> int:
    whole = _claim(Q(episode__isnull=True))
    if not whole.rows:
        return 0
    # A full refresh also answers every episode's request made before it starts.
    episodes = _claim(Q(episode__isnull=False))
    flags.refresh_flags()
    return _complete(whole) + _complete(episodes)


def _claim(scope: Q, limit: int | None = None) -> Claim:
    """Claim free requests in `scope` (none claimed, or whose lease has run out) for one lease.

    One UPDATE, atomic on its own. On PostgreSQL its subquery takes the rows FOR UPDATE SKIP
    LOCKED, so rows that a concurrent claim or an uncommitted new request holds are left to
    them instead of waited for; SQLite has no row locks (and ignores the clause): it runs one
    writer at a time, which makes the plain UPDATE just as safe."""
    now = timezone.now()
    key = uuid.uuid4()
    free = (
        FlagRefreshRequest.objects.filter(scope)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("pk")
        .select_for_update(skip_locked=True)
        .values("pk")
    )
    lease = datetime.timedelta(seconds=settings.CAREREG_FLAG_REFRESH_LEASE_SECONDS)
    with transaction.atomic():
        rows = FlagRefreshRequest.objects.filter(pk__in=Subquery(free[:limit] if limit else free)).update(
            claim=key, claimed_until=now + lease
        )
    episode_ids = list(
        FlagRefreshRequest.objects.filter(claim=key, episode__isnull=False).values_list("episode_id", flat=True)
    )
    return Claim(key=key, episode_ids=episode_ids, rows=rows)


def _complete(claim: Claim) -> int:
    """Delete the requests still held by this claim; those renewed meanwhile stay pending."""
    deleted, _ = FlagRefreshRequest.objects.filter(claim=claim.key).delete()
    return deleted
