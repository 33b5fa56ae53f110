"""The patient's consent to texts: recorded by staff, withdrawn by staff or by the patient
replying STOP, given again by replying START; and the other replies (docs/sms.md#stop-and-help).

Every change keeps who (a person, or none when the patient replied) and when, in the
consent's history. Withdrawing stops the texts not yet sent at once.
"""

import logging
import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from patients.models import Patient
from selfreport import messaging
from selfreport.models import Invitation, TextConsent, TextOptOut
from selfreport.phone import mobile_number, mobile_number_or_none, readable
from selfreport.wording import SMS, SMS_UNKNOWN_SENDER

log = logging.getLogger(__name__)

STOP, START, HELP = "stop", "start", "help"
# The words carriers and providers treat as opting out, back in, and asking for help; a reply
# is one of them when it is the whole message, whatever its case, spaces or punctuation.
KEYWORDS = {
    **dict.fromkeys(["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"], STOP),
    **dict.fromkeys(["START", "UNSTOP"], START),
    **dict.fromkeys(["HELP", "INFO"], HELP),
}


def number_to_offer(patient: Patient, current: TextConsent | None) -> str:
    """For the consent form: the consent's number, else the patient's phone when it can take texts."""
    if current is not None:
        return readable(current.phone_number)
    number = mobile_number_or_none(patient.phone) if patient.phone else None
    return readable(number) if number else ""


def keyword_of(body: str) -> str | None:
    return KEYWORDS.get(re.sub(r"[\W_]+", "", body or "").upper())


@transaction.atomic
def record_text_consent(*, patient: Patient, phone_number: str, by) -> TextConsent:
    """The patient agrees to texts at this number (told to a member of staff)."""
    try:
        number = mobile_number(phone_number)
    except ValidationError as error:
        raise ValidationError({"phone_number": error.messages}) from None
    opted_out = TextOptOut.objects.filter(phone_number=number, opted_out=True).first()
    if opted_out is not None:
        raise ValidationError(
            {
                "phone_number": f"This number replied STOP on {timezone.localdate(opted_out.changed_at):%Y-%m-%d}. "
                "Texts can start again only when the patient replies START to the clinic's number."
            }
        )
    consent = TextConsent.objects.select_for_update().filter(patient=patient).first() or TextConsent(patient=patient)
    if consent.pk and consent.status == TextConsent.Status.GIVEN and consent.phone_number == number:
        return consent  # nothing changed: no new version
    _change(consent, status=TextConsent.Status.GIVEN, source=TextConsent.Source.STAFF, by=by, number=number)
    return consent


@transaction.atomic
def withdraw_text_consent(*, patient: Patient, by) -> TextConsent | None:
    consent = TextConsent.objects.select_for_update().filter(patient=patient).first()
    if consent is None or consent.status == TextConsent.Status.WITHDRAWN:
        return consent
    _change(consent, status=TextConsent.Status.WITHDRAWN, source=TextConsent.Source.STAFF, by=by)
    messaging.cancel_queued_texts(patient_ids=[patient.pk], reason="consent withdrawn")
    return consent


@transaction.atomic
def opt_out(*, phone_number: str) -> int:
    """The number replied STOP: no more texts to it, whoever's record holds it; returns how
    many patients' consents were withdrawn."""
    _set_opt_out(phone_number, opted_out=True)
    consents = list(
        TextConsent.objects.select_for_update().filter(phone_number=phone_number, status=TextConsent.Status.GIVEN)
    )
    for consent in consents:
        _change(consent, status=TextConsent.Status.WITHDRAWN, source=TextConsent.Source.PATIENT_STOP, by=None)
    messaging.cancel_queued_texts(patient_ids=[c.patient_id for c in consents], reason="patient replied STOP")
    return len(consents)


@transaction.atomic
def opt_in(*, phone_number: str) -> int:
    """The number replied START: texts may go to it again, to the patients whose consent its
    STOP withdrew (a withdrawal by staff stands)."""
    _set_opt_out(phone_number, opted_out=False)
    consents = list(
        TextConsent.objects.select_for_update().filter(
            phone_number=phone_number,
            status=TextConsent.Status.WITHDRAWN,
            source=TextConsent.Source.PATIENT_STOP,
        )
    )
    for consent in consents:
        _change(consent, status=TextConsent.Status.GIVEN, source=TextConsent.Source.PATIENT_START, by=None)
    return len(consents)


def _set_opt_out(phone_number: str, *, opted_out: bool) -> None:
    row = TextOptOut.objects.select_for_update().filter(phone_number=phone_number).first()
    if row is None:
        row = TextOptOut(phone_number=phone_number)
    elif row.opted_out == opted_out:
        return
    row.opted_out, row.changed_at = opted_out, timezone.now()
    row.save()


def _change(consent: TextConsent, *, status: str, source: str, by, number: str | None = None) -> None:
    consent.status, consent.source, consent.changed_by, consent.changed_at = status, source, by, timezone.now()
    if number:
        consent.phone_number = number
    consent._history_user = by
    consent.save()


def handle_reply(*, phone_number: str | None, body: str) -> str | None:
    """What a patient's text to the clinic's number does, and the answer to send back (None:
    none from us; the provider confirms STOP and START itself).

    A reply that is no keyword gets the answer that nobody reads replies, with the crisis
    line: a patient in distress must not think they have told their care team.
    """
    keyword = keyword_of(body)
    if phone_number and keyword == STOP:
        withdrawn = opt_out(phone_number=phone_number)
        log.info("Inbound text: opt-out; consents withdrawn: %s", withdrawn)
        return None
    if phone_number and keyword == START:
        restored = opt_in(phone_number=phone_number)
        log.info("Inbound text: opt-in; consents given again: %s", restored)
        return None
    log.info("Inbound text: %s", keyword or "not a keyword")
    clinic, language = _sender_of(phone_number)
    return SMS[language][HELP if keyword == HELP else "unread"].format(clinic=clinic)


def _sender_of(phone_number: str | None) -> tuple[str, str]:
    """The clinic whose patient has this number, and the language of their latest link."""
    latest = (
        Invitation.objects.filter(episode__patient__text_consent__phone_number=phone_number or "")
        .select_related("episode__patient__clinic")
        .order_by("-sent_at")
        .first()
    )
    if latest is not None:
        return latest.episode.patient.clinic.name, latest.language
    consent = TextConsent.objects.filter(phone_number=phone_number or "").select_related("patient__clinic").first()
    return (consent.patient.clinic.name if consent else SMS_UNKNOWN_SENDER), "en"
