"""Telling a psychiatric consultant that a patient needs their review after a safety assessment
(docs/user-guide.md#safety-follow-through): the patient waits first on the consultant's
awaiting list and on the team's next agenda (consults.safety_review), an in-app notice, and an
e-mail that carries no PHI: no name, MRN or score, only the clinic and a link to sign in."""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from consults.agenda import put_on_next_agenda
from consults.models import Notification
from registry.models import SafetyAssessment

log = logging.getLogger(__name__)


@transaction.atomic
def notify_consultant_of_safety(assessment: SafetyAssessment, by) -> Notification:
    episode = assessment.episode
    patient = episode.patient
    consultant = patient.psychiatric_consultant
    if consultant is None or not consultant.is_active:
        raise ValidationError(
            {"actions": "This patient has no psychiatric consultant to notify: assign one first, or untick it."}
        )
    notice = Notification.objects.create(
        recipient=consultant,
        clinic=patient.clinic,
        episode=episode,
        text=(
            f"Safety review needed: {patient.last_name}, {patient.first_name} (MRN {patient.mrn}), "
            f"{assessment.get_risk_level_display().lower()} risk, assessed "
            f"{timezone.localtime(assessment.assessed_at):%Y-%m-%d %H:%M} by {by}."
        ),
        link=reverse("patients:detail", args=[patient.pk]),
        created_at=timezone.now(),
    )
    put_on_next_agenda(episode, by)
    transaction.on_commit(lambda: email_notice(notice))
    return notice


def email_notice(notice: Notification) -> bool:
    """The e-mail says only that a patient of the clinic needs a review, and where to sign in."""
    if not notice.recipient.email:
        return False
    link = settings.CAREREG_BASE_URL.rstrip("/") + reverse("consults:notifications")
    body = (
        f"A patient in {notice.clinic.name} needs your review.\n\n"
        f"Sign in to CareReg to see who and why: {link}\n\n"
        "This message holds no patient details on purpose.\n"
    )
    try:
        send_mail("CareReg: a patient needs your review", body, None, [notice.recipient.email])
    except Exception:  # the in-app notice, the list and the agenda stand; the mail server is the admin's
        log.exception("Could not e-mail notification %s", notice.pk)
        return False
    return True
