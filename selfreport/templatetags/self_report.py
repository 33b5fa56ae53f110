from django import template
from django.utils import timezone

from accounts.permissions import can_write_clinical
from patients.models import Episode
from selfreport.consent import number_to_offer
from selfreport.forms import SendForm, TextConsentForm
from selfreport.models import Channel, Delivery, Invitation, TextConsent
from selfreport.phone import readable

register = template.Library()
SHOWN_LINKS = 5


@register.inclusion_tag("selfreport/_patient_panel.html")
def self_report_panel(episode, user):
    """The patient page's self-report card: consent to texts, the schedule, recent links with
    each message's delivery, and the send form. Two queries, however many links."""
    now = timezone.now()
    row = Episode.objects.select_related(
        "self_report_schedule", "patient__text_consent__changed_by", "patient__clinic"
    ).get(pk=episode.pk)
    patient = row.patient
    consent = getattr(patient, "text_consent", None)
    schedule = getattr(row, "self_report_schedule", None)
    writer = can_write_clinical(user) and row.is_open
    texts_allowed = consent is not None and consent.status == TextConsent.Status.GIVEN
    return {
        "episode": row,
        "patient": patient,
        "now": now,
        "consent": consent,
        "consent_number": readable(consent.phone_number) if consent else "",
        "schedule": schedule if schedule and schedule.active else None,
        "schedule_paused": bool(schedule and schedule.channel == Channel.SMS and not texts_allowed),
        "links": _recent_links(episode, now),
        "writer": writer,
        "form": _send_form(patient, texts_allowed) if writer else None,
        "consent_form": TextConsentForm(initial={"phone_number": number_to_offer(patient, consent)})
        if writer
        else None,
    }


def _recent_links(episode, now) -> list[dict]:
    """The last links and their messages, from one query over the messages: every link has one."""
    last = Invitation.objects.filter(episode=episode).order_by("-sent_at").values("pk")[:SHOWN_LINKS]
    deliveries = (
        Delivery.objects.filter(invitation__in=last)
        .select_related("invitation")
        .order_by("-invitation__sent_at", "invitation_id", "created_at")
    )
    links: dict[int, dict] = {}
    for delivery in deliveries:
        invitation = delivery.invitation
        entry = links.setdefault(
            invitation.pk, {"invitation": invitation, "state": invitation.state(now), "deliveries": []}
        )
        entry["deliveries"].append(delivery)
    return list(links.values())


def _send_form(patient, texts_allowed: bool) -> SendForm:
    spanish = patient.preferred_language.lower().startswith(("span", "esp"))
    return SendForm(
        initial={
            "email": patient.email,
            "language": "es" if spanish else "en",
            "instruments": ["PHQ9"],
            "channel": Channel.SMS if texts_allowed and not patient.email else Channel.EMAIL,
        }
    )
