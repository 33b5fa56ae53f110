"""The morning digest: each care manager learns how many new flags wait in the app.

The e-mail holds counts and a link, never a name or MRN: e-mail is not a safe place for PHI.
"""

import datetime
import logging
import operator
from collections import defaultdict
from functools import reduce

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from patients.models import Episode
from registry.models import Flag, FlagDigest

log = logging.getLogger(__name__)


def new_flag_counts_by_care_manager(since: dict[int, datetime.datetime]) -> dict[int, dict[str, int]]:
    """For each care manager id of `since`, the open flags raised on their caseload after their
    start, by kind, most urgent first: one query for them all. The care managers who share a
    start (all those of one morning's run, usually) share one condition."""
    ids_since = defaultdict(list)
    for care_manager_id, start in since.items():
        ids_since[start].append(care_manager_id)
    if not ids_since:
        return {}
    raised_since = reduce(
        operator.or_,
        (Q(episode__patient__care_manager__in=ids, raised_at__gt=start) for start, ids in ids_since.items()),
    )
    flags = Flag.objects.filter(raised_since, resolved_at__isnull=True).exclude(
        episode__status=Episode.Status.DISCHARGED
    )
    rows = flags.order_by().values_list("episode__patient__care_manager", "kind").annotate(n=Count("pk"))
    found: defaultdict[int, dict[str, int]] = defaultdict(dict)
    for care_manager_id, kind, n in rows:
        found[care_manager_id][kind] = n
    return {
        care_manager_id: {kind: counts[kind] for kind in Flag.PRIORITY if kind in counts}
        for care_manager_id, counts in found.items()
    }


def _message(counts: dict[str, int], since: datetime.datetime) -> tuple[str, str]:
    total = sum(counts.values())
    lines = [f"  {n} {Flag.Kind(kind).label.lower()}" for kind, n in counts.items()]
    url = settings.CAREREG_BASE_URL.rstrip("/") + reverse("registry:dashboard")
    body = (
        f"{total} new flag{'s' if total != 1 else ''} on your CareReg caseload since "
        f"{timezone.localtime(since):%Y-%m-%d %H:%M}:\n\n" + "\n".join(lines) + f"\n\nOpen your caseload: {url}\n\n"
        "Patients' names are shown only in the app.\n"
    )
    return f"CareReg: {total} new flag{'s' if total != 1 else ''} on your caseload", body


def send_digest(
    care_manager: User, now: datetime.datetime, since: datetime.datetime, counts: dict[str, int]
) -> int | None:
    """Record today's digest and send it (when there are new flags); the flags counted, or
    None when a digest of today was already recorded."""
    try:
        with transaction.atomic():
            # The unique (recipient, day) key stops a second worker; a failed send rolls it back.
            FlagDigest.objects.create(
                recipient=care_manager,
                sent_on=timezone.localdate(now),
                covers_since=since,
                sent_at=now,
                flag_count=sum(counts.values()),
            )
            if counts:
                subject, body = _message(counts, since)
                send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [care_manager.email])
    except IntegrityError:
        return None
    return sum(counts.values())


def care_managers_with_last_digest() -> list[tuple[User, datetime.datetime | None, datetime.date | None]]:
    """Every active care manager with an e-mail address, with when their latest digest was sent
    (None before the first): (care manager, sent_at, sent_on), in one query."""
    latest = FlagDigest.objects.filter(recipient=OuterRef("pk")).order_by("-sent_at", "-pk")
    care_managers = (
        User.objects.filter(role=Role.CARE_MANAGER, is_active=True)
        .exclude(email="")
        .annotate(
            last_sent_at=Subquery(latest.values("sent_at")[:1]), last_sent_on=Subquery(latest.values("sent_on")[:1])
        )
    )
    return [(user, user.last_sent_at, user.last_sent_on) for user in care_managers]


def send_digests(now: datetime.datetime | None = None) -> int:
    """Today's digest to every active care manager with an e-mail address who has not had it,
    counting the flags raised since their last one (or the last day); returns how many e-mails
    went. Read in two queries for them all, then one transaction each."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    since, due = {}, []
    for care_manager, last_sent_at, last_sent_on in care_managers_with_last_digest():
        if last_sent_on != today:
            due.append(care_manager)
            since[care_manager.pk] = last_sent_at or now - datetime.timedelta(days=1)
    counts = new_flag_counts_by_care_manager(since)
    sent = 0
    for care_manager in due:
        try:
            sent += bool(send_digest(care_manager, now, since[care_manager.pk], counts.get(care_manager.pk, {})))
        except Exception:  # e.g. the mail server refused one address: the others still get theirs
            log.exception("Flag digest to user %s failed; the next run sends it.", care_manager.pk)
    return sent
