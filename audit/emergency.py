"""Emergency ("break the glass") access to one patient of another clinic.

A staff user gives a reason and gets read access to that patient's page for a few hours
(settings.CAREREG_EMERGENCY_ACCESS_HOURS). The grant is a row with history; the patient's
clinic admins are e-mailed at once (registry id and a link only: MRNs and names are PHI and
e-mail is no place for them); each page read under it is logged with outcome "emergency".
"""

import datetime
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from audit.models import EmergencyAccess
from patients.models import Patient

log = logging.getLogger(__name__)
REASON_MIN_LENGTH = 20


def emergency_hours() -> int:
    return getattr(settings, "CAREREG_EMERGENCY_ACCESS_HOURS", 4)


def with_emergency_grants(patients: QuerySet, user: User) -> QuerySet:
    """The user's visible patients, and those they hold an active emergency grant for."""
    if not user.is_authenticated:
        return patients
    granted = EmergencyAccess.objects.active().filter(user=user).values("patient_id")
    return patients | Patient.objects.filter(pk__in=granted)


@transaction.atomic
def grant_emergency_access(*, patient: Patient, reason: str, by: User) -> EmergencyAccess:
    reason = reason.strip()
    if not by.is_authenticated or not by.is_active or not (by.role or by.is_superuser):
        raise ValidationError("Only staff may use emergency access.")
    if len(reason) < REASON_MIN_LENGTH:
        raise ValidationError(
            {"reason": f"Say why you need this record now, in at least {REASON_MIN_LENGTH} characters."}
        )
    if by.is_superuser or by.clinics.filter(pk=patient.clinic_id).exists():
        raise ValidationError("This patient is in your clinics: open the record from the caseload.")
    now = timezone.now()
    access = EmergencyAccess(
        user=by,
        patient=patient,
        reason=reason,
        granted_at=now,
        expires_at=now + datetime.timedelta(hours=emergency_hours()),
    )
    access._history_user = by
    access.save()
    transaction.on_commit(lambda: notify_clinic_admins(access))
    return access


def clinic_admins_to_tell(clinic_id: int) -> list[str]:
    admins = User.objects.filter(role=Role.CLINIC_ADMIN, is_active=True, clinics=clinic_id).exclude(email="")
    return sorted(set(admins.values_list("email", flat=True)))


def notify_clinic_admins(access: EmergencyAccess) -> int:
    """E-mail the patient's clinic admins: who, when, until when, and where to see it. No PHI."""
    recipients = clinic_admins_to_tell(access.patient.clinic_id)
    if not recipients:
        log.warning("Emergency access %s: the patient's clinic has no admin with an e-mail address.", access.pk)
        return 0
    report = settings.CAREREG_BASE_URL.rstrip("/") + reverse("audit:emergency_list")
    body = (
        f"{access.user} ({access.user.get_username()}) used emergency access to a patient record of your clinic "
        f"(registry id {access.patient_id}) at {timezone.localtime(access.granted_at):%Y-%m-%d %H:%M}, "
        f"until {timezone.localtime(access.expires_at):%Y-%m-%d %H:%M}.\n\n"
        f"The reason given and every page read are on the emergency access report: {report}\n"
    )
    try:
        send_mail("CareReg: emergency access to a patient record of your clinic", body, None, recipients)
    except Exception:  # the grant stands and is on the report; the mail server is the admin's to fix
        log.exception("Could not e-mail the clinic admins about emergency access %s", access.pk)
        return 0
    return len(recipients)
