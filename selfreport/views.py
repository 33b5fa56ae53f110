"""The care manager sends a link; the patient, without an account, opens it and answers."""

import zoneinfo

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.permissions import can_administer_clinic, can_write_clinical, require
from carereg.forms import show_errors_on_form
from patients.access import get_patient_for_user
from patients.models import Episode
from selfreport import consent, services
from selfreport.forms import BirthDateForm, MessagingSettingsForm, QuestionnaireForm, SendForm, TextConsentForm
from selfreport.models import Invitation, Language, MessagingSettings, Schedule, TextConsent
from selfreport.wording import TEXT

VERIFIED = "selfreport-verified"  # invitation ids whose birth date this browser confirmed
ANSWERED = "selfreport-answered"  # invitation id -> whether to show crisis resources
LANGUAGE = "selfreport-language"


# --- Staff ----------------------------------------------------------------------------------


@require_POST
def send(request: HttpRequest, patient_pk: int) -> HttpResponse:
    patient = get_patient_for_user(request.user, patient_pk)
    require(can_write_clinical(request.user), "send questionnaires")
    episode = patient.episodes.open().first()
    if episode is None:
        raise Http404("No open episode.")
    form = SendForm(request.POST)
    if form.is_valid():
        try:
            _send(request, episode, form.cleaned_data)
        except ValidationError as error:
            show_errors_on_form(form, error)
        else:
            return redirect("patients:detail", pk=patient.pk)
    consent_row = TextConsent.objects.filter(patient=patient).first()
    context = {"patient": patient, "form": form, "consent": consent_row}
    return render(request, "selfreport/send.html", context, status=400)


def _send(request: HttpRequest, episode: Episode, data: dict) -> None:
    """The link now and, when asked, the schedule of the next ones: both or neither."""
    with transaction.atomic():
        invitation, _ = services.send_invitation(
            episode=episode,
            instruments=data["instruments"],
            language=data["language"],
            channel=data["channel"],
            email=data["email"],
            by=request.user,
        )
        if data["every_days"]:
            services.set_schedule(
                episode=episode,
                every_days=data["every_days"],
                instruments=data["instruments"],
                language=data["language"],
                channel=data["channel"],
                by=request.user,
            )
    link = invitation.deliveries.get()
    zone = zoneinfo.ZoneInfo(episode.patient.clinic.timezone)
    sent = (
        "Questionnaire link sent."
        if link.send_after <= timezone.now()
        else (
            f"Questionnaire link recorded: the text goes out at {link.send_after.astimezone(zone):%H:%M}, "
            "when the clinic's quiet hours end."
        )
    )
    messages.success(request, sent + (" It will be sent again on schedule." if data["every_days"] else ""))


@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation.objects.visible_to(request.user), pk=pk)
    require(can_write_clinical(request.user), "cancel questionnaire links")
    if invitation.state(timezone.now()) == "pending":
        services.cancel_invitation(invitation=invitation, by=request.user)
        messages.success(request, "The link no longer works.")
    return redirect("patients:detail", pk=invitation.episode.patient_id)


@require_POST
def stop(request: HttpRequest, pk: int) -> HttpResponse:
    schedule = get_object_or_404(Schedule.objects.filter(episode__in=Episode.objects.visible_to(request.user)), pk=pk)
    require(can_write_clinical(request.user), "stop scheduled questionnaires")
    services.stop_schedule(schedule=schedule, by=request.user)
    messages.success(request, "Scheduled questionnaires stopped.")
    return redirect("patients:detail", pk=schedule.episode.patient_id)


def text_consent(request: HttpRequest, patient_pk: int) -> HttpResponse:
    """The patient's consent to texts: its state, its history, and the form to record it."""
    patient = get_patient_for_user(request.user, patient_pk)
    current = TextConsent.objects.filter(patient=patient).select_related("changed_by").first()
    writer = can_write_clinical(request.user)
    form = TextConsentForm(request.POST or None, initial={"phone_number": consent.number_to_offer(patient, current)})
    if request.method == "POST":
        require(writer, "record consent to texts")
        if form.is_valid():
            try:
                consent.record_text_consent(
                    patient=patient, phone_number=form.cleaned_data["phone_number"], by=request.user
                )
            except ValidationError as error:
                show_errors_on_form(form, error)
            else:
                messages.success(request, "Consent to texts recorded.")
                return redirect("patients:detail", pk=patient.pk)
    history = TextConsent.history.filter(patient_id=patient.pk).select_related("history_user", "changed_by")
    context = {"patient": patient, "consent": current, "form": form if writer else None, "history": history}
    return render(request, "selfreport/texts.html", context, status=400 if form.errors else 200)


@require_POST
def withdraw_text_consent(request: HttpRequest, patient_pk: int) -> HttpResponse:
    patient = get_patient_for_user(request.user, patient_pk)
    require(can_write_clinical(request.user), "withdraw consent to texts")
    if consent.withdraw_text_consent(patient=patient, by=request.user) is not None:
        messages.success(request, "Consent to texts withdrawn: no more texts go to this patient.")
    return redirect("patients:detail", pk=patient.pk)


def messaging_settings(request: HttpRequest) -> HttpResponse:
    """Clinic admins set their clinic's quiet hours for texts and the reminder (docs/sms.md#quiet-hours)."""
    require(can_administer_clinic(request.user), "change messaging settings")
    clinics = list(request.user.visible_clinics())
    clinic = next((c for c in clinics if str(c.pk) == request.GET.get("clinic")), clinics[0] if clinics else None)
    if clinic is None:
        raise Http404("You belong to no clinic.")
    form = MessagingSettingsForm(request.POST or None, instance=MessagingSettings.for_clinic(clinic))
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        saved._history_user = request.user
        saved.save()
        messages.success(request, f"Messaging settings of {clinic.name} saved.")
        return redirect(f"{reverse('selfreport:settings')}?clinic={clinic.pk}")
    context = {"form": form, "clinic": clinic, "clinics": clinics}
    return render(request, "selfreport/settings.html", context, status=400 if form.errors else 200)


# --- The patient ----------------------------------------------------------------------------


def _language(request: HttpRequest, invitation: Invitation) -> str:
    return request.session.get(LANGUAGE, {}).get(str(invitation.pk), invitation.language)


def _open_invitation(token: str) -> Invitation:
    invitation = services.find_invitation(token)
    if invitation is None:
        raise Http404("No such link.")
    return invitation


def _unavailable(request, invitation, language) -> HttpResponse:
    state = invitation.state(timezone.now())
    key = "locked" if state == "locked" else "unavailable"
    return render(
        request, "selfreport/message.html", {"text": TEXT[language], "message": TEXT[language][key]}, status=410
    )


@login_not_required
def start(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _open_invitation(token)
    language = _language(request, invitation)
    if invitation.state(timezone.now()) != "pending":
        return _unavailable(request, invitation, language)
    form = BirthDateForm(request.POST or None, language=language)
    if request.method == "POST" and form.is_valid():
        if services.confirm_birth_date(invitation=invitation, birth_date=form.cleaned_data["birth_date"]):
            request.session.cycle_key()
            request.session[VERIFIED] = [*request.session.get(VERIFIED, []), invitation.pk]
            return redirect("selfreport:questions", token=token)
        invitation.refresh_from_db()
        if invitation.state(timezone.now()) != "pending":
            return _unavailable(request, invitation, language)
        form.add_error("birth_date", TEXT[language]["wrong_birth_date"])
    return render(
        request, "selfreport/start.html", {"form": form, "text": TEXT[language], "token": token, "language": language}
    )


@login_not_required
@require_POST
def switch_language(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _open_invitation(token)
    chosen = request.POST.get("language")
    if chosen in Language.values:
        request.session[LANGUAGE] = {**request.session.get(LANGUAGE, {}), str(invitation.pk): chosen}
    verified = invitation.pk in request.session.get(VERIFIED, [])
    return redirect("selfreport:questions" if verified else "selfreport:start", token=token)


@login_not_required
def questions(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _open_invitation(token)
    language = _language(request, invitation)
    if invitation.pk not in request.session.get(VERIFIED, []):
        return redirect("selfreport:start", token=token)
    if invitation.state(timezone.now()) != "pending":
        return _unavailable(request, invitation, language)
    forms = [QuestionnaireForm(request.POST or None, code=code, language=language) for code in invitation.instruments]
    if request.method == "POST" and all(form.is_valid() for form in forms):
        try:
            services.record_answers(invitation=invitation, answers=[form.answers() for form in forms])
        except ValidationError:
            return _unavailable(request, invitation, language)
        crisis = any(form.calls_for_crisis_help() for form in forms)
        request.session[ANSWERED] = {**request.session.get(ANSWERED, {}), str(invitation.pk): crisis}
        return redirect("selfreport:done", token=token)
    return render(
        request,
        "selfreport/questions.html",
        {"forms": forms, "text": TEXT[language], "token": token, "language": language},
    )


@login_not_required
def done(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _open_invitation(token)
    answered = request.session.get(ANSWERED, {})
    if str(invitation.pk) not in answered:
        return redirect("selfreport:start", token=token)
    text = TEXT[_language(request, invitation)]
    return render(request, "selfreport/done.html", {"text": text, "crisis": answered[str(invitation.pk)]})
