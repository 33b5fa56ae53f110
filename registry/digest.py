"""The morning digest: each care manager learns how many new flags wait in the app.

The e-mail holds counts and a link, never a name or MRN: e-mail is not a safe place for PHI.
"""

import datetime
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from patients.models import Episode
from registry.models import Flag, FlagDigest

log = logging.getLogger(__name__)


def new_flag_counts(care_manager: User, since: datetime.datetime) -> dict[str, int]:
    flags = Flag.objects.filter(
        episode__patient__care_manager=care_manager, resolved_at__isnull=True, raised_at__gt=since
    ).exclude(episode__status=Episode.Status.DISCHARGED)
    rows = flags.order_by().values("kind").annotate(n=Count("pk"))
    counts = {row["kind"]: row["n"] for row in rows}
    return {kind: counts[kind] for kind in Flag.PRIORITY if kind in counts}


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


def send_digest(care_manager: User, now: datetime.datetime) -> int | None:
    """Send today's digest unless it was sent; the flags counted, or None when already sent."""
    today = timezone.localdate(now)
    last = FlagDigest.objects.filter(recipient=care_manager).order_by("-sent_at").first()
    if last and last.sent_on == today:
        return None
    since = last.sent_at if last else now - datetime.timedelta(days=1)
    counts = new_flag_counts(care_manager, since)
    try:
        with transaction.atomic():
            # The unique (recipient, day) key stops a second worker; a failed send rolls it back.
            FlagDigest.objects.create(
                recipient=care_manager, sent_on=today, covers_since=since, sent_at=now, flag_count=sum(counts.values())
            )
            if counts:
                subject, body = _message(counts, since)
                send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [care_manager.email])
    except IntegrityError:
        return None
    return sum(counts.values())


def send_digests(now: datetime.datetime | None = None) -> int:
    """Digests to every active care manager with an e-mail address; returns how many e-mails went."""
    now = now or timezone.now()
    care_managers = User.objects.filter(role=Role.CARE_MANAGER, is_active=True).exclude(email="")
    sent = 0
    for care_manager in care_managers:
        try:
            sent += bool(send_digest(care_manager, now))
        except Exception:  # e.g. the mail server refused one address: the others still get theirs
            log.exception("Flag digest to user %s failed; the next run sends it.", care_manager.pk)
    return sent
