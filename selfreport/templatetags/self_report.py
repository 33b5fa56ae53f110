from django import template
from django.utils import timezone

from accounts.permissions import can_write_clinical
from selfreport.forms import SendForm
from selfreport.models import Schedule

register = template.Library()


@register.inclusion_tag("selfreport/_patient_panel.html")
def self_report_panel(episode, user):
    """The patient page's self-report card: recent links, the schedule, and the send form."""
    now = timezone.now()
    invitations = list(episode.self_report_invitations.select_related("sent_by")[:5])
    schedule = Schedule.objects.filter(episode=episode, active=True).first()
    writer = can_write_clinical(user) and episode.is_open
    patient = episode.patient
    return {
        "episode": episode,
        "patient": patient,
        "invitations": [(invitation, invitation.state(now)) for invitation in invitations],
        "schedule": schedule,
        "form": SendForm(
            initial={
                "email": patient.email,
                "language": "es" if patient.preferred_language.lower().startswith(("span", "esp")) else "en",
                "instruments": ["PHQ9"],
            }
        )
        if writer
        else None,
    }
