"""Clinic admins' audit pages, and the emergency access page for any staff user."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from accounts.permissions import can_administer_clinic, require
from audit import emergency
from audit.forms import EmergencyAccessForm, PatientAccessForm, UserAccessForm
from audit.history import patient_history as history_of
from audit.middleware import REFUSED_PATIENT_KEY, write_event
from audit.models import AccessEvent, EmergencyAccess, Kind, Outcome
from carereg.forms import show_errors_on_form
from patients.access import get_patient_for_user
from patients.models import Patient

PAGE_SIZE = 50
PATIENT_REPORT_KEY = "audit-patient-report"  # the chosen patient and period: in the session, not the URL


def patient_access(request: HttpRequest) -> HttpResponse:
    """Who accessed this patient: chosen by MRN in a POST, then paged through by page number only."""
    require(can_administer_clinic(request.user), "see the access log")
    if request.method == "POST":
        form = PatientAccessForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            request.session[PATIENT_REPORT_KEY] = {
                "patient": data["patient"].pk,
                "start": data["start"].isoformat(),
                "end": data["end"].isoformat(),
            }
            return redirect("audit:patient_access")
        return render(request, "audit/patient_access.html", {"form": form})
    chosen = request.session.get(PATIENT_REPORT_KEY)
    patient = Patient.objects.visible_to(request.user).filter(pk=chosen["patient"]).first() if chosen else None
    if patient is None:
        return render(request, "audit/patient_access.html", {"form": PatientAccessForm(user=request.user)})
    form = PatientAccessForm(
        {"clinic": patient.clinic_id, "mrn": patient.mrn, "start": chosen["start"], "end": chosen["end"]},
        user=request.user,
    )
    form.is_valid()
    start, end = form.bounds()
    events = AccessEvent.objects.filter(patient_id=patient.pk, at__gte=start, at__lt=end).select_related("user")
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "audit/patient_access.html", {"form": form, "patient": patient, "page": page})


def user_access(request: HttpRequest) -> HttpResponse:
    """What did this user access: events on the admin's clinics' patients, and their list pages."""
    require(can_administer_clinic(request.user), "see the access log")
    form = UserAccessForm(request.GET if "user" in request.GET else None, user=request.user)
    page = None
    if form.is_bound and form.is_valid():
        start, end = form.bounds()
        events = AccessEvent.objects.filter(user=form.cleaned_data["user"], at__gte=start, at__lt=end)
        if not request.user.is_superuser:
            events = events.filter(clinic_id__in=request.user.clinics.values("pk")) | events.filter(
                clinic_id__isnull=True
            )
        page = Paginator(events.select_related("patient"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "audit/user_access.html", {"form": form, "page": page})


def emergency_list(request: HttpRequest) -> HttpResponse:
    """Emergency accesses to the admin's clinics' patients, newest first."""
    require(can_administer_clinic(request.user), "see emergency accesses")
    grants = EmergencyAccess.objects.visible_to(request.user).select_related("user", "patient__clinic")
    page = Paginator(grants, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "audit/emergency_list.html", {"page": page, "now": timezone.now()})


def emergency_access(request: HttpRequest) -> HttpResponse:
    """Break the glass. Every attempt is logged, granted or not (docs/access-log.md#emergency-access)."""
    require(bool(request.user.role) and not request.user.is_superuser, "use emergency access")
    refused = request.session.get(REFUSED_PATIENT_KEY)
    form = EmergencyAccessForm(request.POST or None, refused_patient_id=refused)
    if request.method != "POST":
        return render(request, "audit/emergency.html", {"form": form, "hours": emergency.emergency_hours()})
    if form.is_valid():
        patient = form.cleaned_data["patient"]
        try:
            grant = emergency.grant_emergency_access(
                patient=patient, reason=form.cleaned_data["reason"], by=request.user
            )
        except ValidationError as error:
            show_errors_on_form(form, error)
        else:
            _log_attempt(request, form, Outcome.EMERGENCY, 302)
            request.session.pop(REFUSED_PATIENT_KEY, None)
            messages.warning(
                request,
                f"Emergency access until {timezone.localtime(grant.expires_at):%H:%M}: this page only, read only. "
                "Every view is logged and the patient's clinic admins have been told.",
            )
            return redirect("patients:detail", pk=patient.pk)
    _log_attempt(request, form, Outcome.DENIED, 400)
    context = {"form": form, "hours": emergency.emergency_hours()}
    return render(request, "audit/emergency.html", context, status=400)


def _log_attempt(request: HttpRequest, form: EmergencyAccessForm, outcome: str, status_code: int) -> None:
    """The attempt in the access log, against the patient and clinic it named (whatever the answer)."""
    patient = form.named_patient()
    write_event(
        request,
        request.user,
        kind=Kind.RECORD,
        outcome=outcome,
        status_code=status_code,
        patient_id=patient.pk if patient else None,
        clinic_id=patient.clinic_id if patient else form.named_clinic_id(),
    )


def patient_history(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient_for_user(request.user, pk)
    require(can_administer_clinic(request.user), "see a patient's change history")
    return render(request, "audit/patient_history.html", {"patient": patient, "versions": history_of(patient)})
