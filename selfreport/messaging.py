"""The messages of questionnaire invitations: recorded, held through quiet hours, sent, tried
again, and their delivery reports (docs/sms.md).

An e-mail goes from the web process once the transaction commits, as it always has; a text
goes from a Celery worker (send_text_message), which re-reads everything it needs: the task
carries the message's id only, never a number or a link.
"""

import datetime
import logging
import secrets
import zoneinfo
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from carereg.celery import app
from carereg.tasks import TASK_OPTIONS, queue_on_commit
from patients.models import Episode
from selfreport import sms
from selfreport.models import Channel, Delivery, Invitation, MessagingSettings, TextConsent, token_hash
from selfreport.quiet_hours import quiet_until
from selfreport.wording import EMAIL, EMAIL_REMINDER, SMS

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
FIRST_RETRY_SECONDS = 60  # then 2, 4 and 8 minutes
SENT = (Delivery.Status.SENT, Delivery.Status.DELIVERED)
# The provider's reports, in the order they can come; a late "sent" never undoes "delivered".
PROVIDER_STATUSES = {"sent": Delivery.Status.SENT, "delivered": Delivery.Status.DELIVERED}
PROVIDER_FAILURES = {"failed", "undelivered"}


def texts_quiet_until(clinic, now: datetime.datetime) -> datetime.datetime | None:
    hours = MessagingSettings.for_clinic(clinic)
    zone = zoneinfo.ZoneInfo(clinic.timezone)
    return quiet_until(now, start=hours.quiet_hours_start, end=hours.quiet_hours_end, zone=zone)


def queue_message(*, invitation: Invitation, kind: str) -> str | None:
    """Record a message of the invitation and have it sent once the transaction commits.

    Returns the e-mailed link's token (the e-mail is sent by this process, which keeps it for
    the message); a text's token is made by the worker at the moment it sends.
    """
    now = timezone.now()
    send_after = now
    if invitation.channel == Channel.SMS:
        send_after = texts_quiet_until(invitation.episode.patient.clinic, now) or now
    token = secrets.token_urlsafe(32) if invitation.channel == Channel.EMAIL else None
    delivery = Delivery.objects.create(
        invitation=invitation,
        kind=kind,
        channel=invitation.channel,
        to=invitation.email,
        created_at=now,
        send_after=send_after,
        status_changed_at=now,
        token_hash=token_hash(token) if token else None,
    )
    if send_after <= now:
        _send_after_commit(delivery.pk, delivery.channel, token)
    return token


def _send_after_commit(delivery_id: int, channel: str, token: str | None = None) -> None:
    if channel == Channel.EMAIL:
        transaction.on_commit(partial(deliver, delivery_id=delivery_id, token=token))
    else:
        queue_on_commit(send_text_message, delivery_id)


@app.task(bind=True, **TASK_OPTIONS)
def send_text_message(self, delivery_id: int) -> None:
    """Send one text now, unless it should no longer go; try again later on a transient error."""
    wait = deliver(delivery_id=delivery_id)
    # Run in-process (no broker) there is nothing to retry on: the text stays queued with its
    # wait recorded, and the next send_due_messages run sends it.
    if wait is not None and not self.request.is_eager:
        raise self.retry(countdown=wait)


def deliver(*, delivery_id: int, token: str | None = None, now: datetime.datetime | None = None) -> int | None:
    """Send the message if it is still due and wanted; the seconds to wait before trying again
    after a transient failure, else None.

    The row stays locked while the provider is called, so two workers given the same message
    (a retry and the periodic catch-up) send it once.
    """
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("invitation__episode__patient__clinic__messaging_settings")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != Delivery.Status.QUEUED or delivery.send_after > now:
            return None
        invitation = delivery.invitation
        if invitation.state(now) != "pending" or not invitation.episode.is_open:
            reason = f"link {invitation.state(now)}" if invitation.episode.is_open else "patient discharged"
            _finish(delivery, Delivery.Status.NOT_SENT, now, detail=reason)
            return None
        if delivery.channel == Channel.SMS:
            consent = TextConsent.objects.textable().filter(patient_id=invitation.episode.patient_id).first()
            if consent is None:
                _finish(delivery, Delivery.Status.NOT_SENT, now, detail="no consent to texts")
                return None
            held_until = texts_quiet_until(invitation.episode.patient.clinic, now)
            if held_until:
                delivery.send_after = held_until
                delivery.save(update_fields=["send_after"])
                return None
            delivery.to = consent.phone_number  # the number as it is now, if it changed since
        return _send(delivery, token or secrets.token_urlsafe(32), now)


def _send(delivery: Delivery, token: str, now: datetime.datetime) -> int | None:
    try:
        provider_id = _transmit(delivery, token)
    except sms.PermanentSmsError as error:
        _finish(delivery, Delivery.Status.FAILED, now, detail=error.code)
        log.warning("Message %s refused by the provider: %s", delivery.pk, error.code)
        return None
    except (sms.TransientSmsError, OSError) as error:  # OSError: the mail server did not answer
        code = error.code if isinstance(error, sms.SmsError) else type(error).__name__
        return _failed_attempt(delivery, now, code)
    delivery.token_hash = token_hash(token)
    delivery.provider_message_id = provider_id or None
    delivery.sent_at = now
    delivery.attempts += 1
    _finish(delivery, Delivery.Status.SENT, now, detail="")
    return None


def _transmit(delivery: Delivery, token: str) -> str:
    """Compose the message in the patient's language and hand it over; the provider's id for it."""
    invitation = delivery.invitation
    clinic = invitation.episode.patient.clinic
    words = {
        "clinic": clinic.name,
        "url": settings.CAREREG_BASE_URL.rstrip("/") + reverse("selfreport:start", args=[token]),
        "expires": timezone.localtime(invitation.expires_at, zoneinfo.ZoneInfo(clinic.timezone)).date().isoformat(),
    }
    if delivery.channel == Channel.EMAIL:
        subject, body = (EMAIL if delivery.kind == Delivery.Kind.LINK else EMAIL_REMINDER)[invitation.language]
        send_mail(subject, body.format(**words), settings.DEFAULT_FROM_EMAIL, [delivery.to])
        return ""
    return sms.send_text(delivery.to, SMS[invitation.language][delivery.kind].format(**words)).provider_id


def _failed_attempt(delivery: Delivery, now: datetime.datetime, code: str) -> int | None:
    delivery.attempts += 1
    if delivery.attempts >= MAX_ATTEMPTS:
        _finish(delivery, Delivery.Status.FAILED, now, detail=code)
        log.warning("Message %s failed after %s attempts: %s", delivery.pk, delivery.attempts, code)
        return None
    wait = FIRST_RETRY_SECONDS * 2 ** (delivery.attempts - 1)
    delivery.send_after = now + datetime.timedelta(seconds=wait)
    delivery.detail = code
    delivery.save(update_fields=["attempts", "send_after", "detail", "to"])
    log.info("Message %s not sent (%s): trying again in %s s", delivery.pk, code, wait)
    return wait


def _finish(delivery: Delivery, status: str, now: datetime.datetime, *, detail: str) -> None:
    delivery.status, delivery.status_changed_at, delivery.detail = status, now, detail
    delivery.save()


def cancel_queued_texts(*, patient_ids: list[int], reason: str) -> int:
    """Texts not yet sent to these patients will not be: consent was withdrawn."""
    now = timezone.now()
    queued = Delivery.objects.select_for_update(of=("self",)).filter(
        channel=Channel.SMS, status=Delivery.Status.QUEUED, invitation__episode__patient_id__in=patient_ids
    )
    cancelled = 0
    for delivery in queued:
        _finish(delivery, Delivery.Status.NOT_SENT, now, detail=reason)
        cancelled += 1
    return cancelled


@transaction.atomic
def record_provider_status(*, provider_message_id: str, status: str, error_code: str = "") -> bool:
    """The provider's report on a text it took: delivered, or failed with its code."""
    if not provider_message_id:
        return False
    delivery = Delivery.objects.select_for_update().filter(provider_message_id=provider_message_id).first()
    if delivery is None:
        return False
    now = timezone.now()
    if status in PROVIDER_FAILURES and delivery.status in SENT:
        _finish(delivery, Delivery.Status.FAILED, now, detail=f"{status} {error_code}".strip()[:100])
    elif PROVIDER_STATUSES.get(status) == Delivery.Status.DELIVERED and delivery.status == Delivery.Status.SENT:
        _finish(delivery, Delivery.Status.DELIVERED, now, detail="")
    return True


def create_due_reminders(now: datetime.datetime) -> int:
    """One reminder for each link still pending that many days before it expires (per clinic),
    by the link's own channel, once: the database keeps one reminder per invitation."""
    due = _reminder_due(now)
    if due is None:
        return 0
    invitations = (
        Invitation.objects.pending(now)
        .filter(due, deliveries__kind=Delivery.Kind.LINK, deliveries__status__in=SENT)
        .filter(episode__in=Episode.objects.open())
        .exclude(deliveries__kind=Delivery.Kind.REMINDER)
        .select_related("episode__patient__clinic__messaging_settings")
    )
    reminders = [_reminder(invitation, now) for invitation in invitations]
    Delivery.objects.bulk_create(reminders, ignore_conflicts=True)
    return len(reminders)


def _reminder_due(now: datetime.datetime) -> Q | None:
    """Which pending links are within their clinic's reminder days of expiring (0 days: none)."""
    chosen = dict(MessagingSettings.objects.values_list("clinic_id", "reminder_days_before_expiry"))
    default = MessagingSettings._meta.get_field("reminder_days_before_expiry").default
    due = None
    for days in set(chosen.values()) | {default}:
        if days == 0:
            continue
        clinics = Q(episode__patient__clinic_id__in=[clinic for clinic, d in chosen.items() if d == days])
        if days == default:
            clinics |= ~Q(episode__patient__clinic_id__in=list(chosen))
        window = clinics & Q(expires_at__lte=now + datetime.timedelta(days=days))
        due = window if due is None else due | window
    return due


def _reminder(invitation: Invitation, now: datetime.datetime) -> Delivery:
    send_after = now
    if invitation.channel == Channel.SMS:
        send_after = texts_quiet_until(invitation.episode.patient.clinic, now) or now
    return Delivery(
        invitation=invitation,
        kind=Delivery.Kind.REMINDER,
        channel=invitation.channel,
        to=invitation.email,
        created_at=now,
        send_after=send_after,
        status_changed_at=now,
    )


def send_due(now: datetime.datetime) -> int:
    """Every message waiting whose time has come (quiet hours over, a retry's wait over, or
    missed when the broker was down): e-mails here, texts queued for the worker."""
    due = list(Delivery.objects.filter(status=Delivery.Status.QUEUED, send_after__lte=now).values_list("pk", "channel"))
    for delivery_id, channel in due:
        if channel == Channel.EMAIL:
            deliver(delivery_id=delivery_id, now=now)
        else:
            queue_on_commit(send_text_message, delivery_id)
    return len(due)
