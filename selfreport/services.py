"""Sending questionnaire links, checking them, and recording the patient's answers."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from patients.models import Episode
from registry import services as registry_services
from registry.models import Measurement, RegistrySettings
from selfreport import messaging
from selfreport.models import (
    MAX_BIRTH_DATE_ATTEMPTS,
    SELF_REPORT_INSTRUMENTS,
    Channel,
    Delivery,
    Invitation,
    Schedule,
    TextConsent,
)

NO_EMAIL = "The patient has no e-mail address: add one to their details first."
NO_TEXTS = "The patient has not agreed to texts: record their consent and mobile number first."


def _check_instruments(instruments: list[str]) -> list[str]:
    chosen = [code for code in SELF_REPORT_INSTRUMENTS if code in instruments]
    if not chosen or len(chosen) != len(set(instruments)):
        raise ValidationError({"instruments": "Choose the PHQ-9, the GAD-7 or both."})
    return chosen


@transaction.atomic
def send_invitation(
    *,
    episode: Episode,
    instruments: list[str],
    language: str,
    channel: str = Channel.EMAIL,
    email: str = "",
    by,
    origin=Invitation.Origin.BY_HAND,
) -> tuple[Invitation, str | None]:
    """A new single-use link, sent once the transaction commits (a text: by the worker, after
    the clinic's quiet hours). Returns it, and the token of an e-mailed link."""
    if not episode.is_open:
        raise ValidationError("This episode is discharged.")
    if channel == Channel.EMAIL and not email:
        raise ValidationError({"email": NO_EMAIL})
    if channel == Channel.SMS and not TextConsent.objects.textable().filter(patient_id=episode.patient_id).exists():
        raise ValidationError({"channel": NO_TEXTS})
    now = timezone.now()
    days = RegistrySettings.for_clinic(episode.patient.clinic).self_report_link_days
    invitation = Invitation(
        episode=episode,
        instruments=_check_instruments(instruments),
        language=language,
        channel=channel,
        email=email if channel == Channel.EMAIL else "",
        origin=origin,
        sent_by=by,
        sent_at=now,
        expires_at=now + datetime.timedelta(days=days),
    )
    invitation._history_user = by
    invitation.save()
    token = messaging.queue_message(invitation=invitation, kind=Delivery.Kind.LINK)
    return invitation, token


def find_invitation(token: str) -> Invitation | None:
    return Invitation.objects.with_token(token).select_related("episode__patient__clinic", "sent_by").first()


@transaction.atomic
def confirm_birth_date(*, invitation: Invitation, birth_date: datetime.date | None) -> bool:
    """True when it matches; each wrong date counts, and too many lock the link."""
    invitation = Invitation.objects.select_for_update().select_related("episode__patient").get(pk=invitation.pk)
    if invitation.state(timezone.now()) != "pending":
        return False
    if birth_date == invitation.episode.patient.birth_date:
        return True
    invitation.birth_date_attempts += 1
    if invitation.birth_date_attempts >= MAX_BIRTH_DATE_ATTEMPTS:
        invitation.locked_at = timezone.now()
    invitation._history_user = invitation.sent_by
    invitation.save(update_fields=["birth_date_attempts", "locked_at"])
    return False


@transaction.atomic
def record_answers(*, invitation: Invitation, answers: list[registry_services.Answers]) -> list[Measurement]:
    """The patient's answers, scored like any others and marked as self-report; the link is spent.

    The safety rule applies at once: record_measurement raises the flag in this transaction.
    """
    invitation = Invitation.objects.select_for_update().select_related("episode", "sent_by").get(pk=invitation.pk)
    if invitation.state(timezone.now()) != "pending":
        raise ValidationError("This link has expired or has already been used.")
    today = timezone.localdate()
    measurements = [
        registry_services.record_measurement(
            episode=invitation.episode,
            answers=answer,
            taken_on=today,
            by=invitation.sent_by,
            source=Measurement.Source.SELF_REPORT,
        )
        for answer in answers
    ]
    invitation.used_at = timezone.now()
    invitation._history_user = invitation.sent_by
    invitation.save(update_fields=["used_at"])
    return measurements


@transaction.atomic
def cancel_invitation(*, invitation: Invitation, by) -> None:
    invitation.cancelled_at = timezone.now()
    invitation._history_user = by
    invitation.save(update_fields=["cancelled_at"])


@transaction.atomic
def set_schedule(
    *, episode: Episode, every_days: int, instruments: list[str], language: str, channel: str = Channel.EMAIL, by
) -> Schedule:
    """Start (or change) automatic links; the first goes out at the next run of the job."""
    schedule = Schedule.objects.filter(episode=episode).first() or Schedule(episode=episode, created_by=by)
    schedule.every_days = every_days
    schedule.instruments = _check_instruments(instruments)
    schedule.language = language
    schedule.channel = channel
    schedule.active = True
    schedule.next_due_on = timezone.localdate()
    schedule._history_user = by
    schedule.save()
    return schedule


@transaction.atomic
def stop_schedule(*, schedule: Schedule, by) -> None:
    schedule.active = False
    schedule._history_user = by
    schedule.save(update_fields=["active"])


def due_schedules(today: datetime.date):
    """Schedules due today for patients in active treatment, reachable by the schedule's
    channel (an e-mail address; consent to texts, not withdrawn by STOP), with no link waiting.

    One query; running twice on a day sends nothing the second time, because the first run
    moved next_due_on on and left a pending link.
    """
    waiting = Invitation.objects.pending(timezone.now()).filter(episode=OuterRef("episode"))
    textable = TextConsent.objects.textable().filter(patient=OuterRef("episode__patient"))
    reachable = (Q(channel=Channel.EMAIL) & ~Q(episode__patient__email="")) | Q(Exists(textable), channel=Channel.SMS)
    return (
        Schedule.objects.filter(reachable, active=True, next_due_on__lte=today, episode__status=Episode.Status.ACTIVE)
        .exclude(Exists(waiting))
        .select_related("episode__patient__clinic", "created_by")
    )


def send_due(today: datetime.date) -> int:
    """Send every due link; each in its own transaction, so one bad address stops no other."""
    sent = 0
    for schedule in due_schedules(today):
        with transaction.atomic():
            send_invitation(
                episode=schedule.episode,
                instruments=schedule.instruments,
                language=schedule.language,
                channel=schedule.channel,
                email=schedule.episode.patient.email,
                by=schedule.created_by,
                origin=Invitation.Origin.SCHEDULED,
            )
            Schedule.objects.filter(pk=schedule.pk).update(
                next_due_on=today + datetime.timedelta(days=schedule.every_days)
            )
        sent += 1
    return sent
