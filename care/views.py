"""Screens for medications, referrals and the education library. What is recorded at a contact
(reports, sessions, a referral, education) is saved with the contact on registry's record-contact page."""

from functools import partial

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts.models import Role
from accounts.permissions import can_administer_clinic, can_write_clinical, require
from care import services
from care.access import (
    get_education_given_for_user,
    get_medication_for_user,
    get_referral_for_user,
    get_topic_for_user,
)
from care.forms import (
    EducationGivenForm,
    EducationTopicForm,
    MedicationForm,
    ReferralForm,
    ReferralStatusForm,
    StopMedicationForm,
)
from care.models import EducationTopic
from carereg.dates import clinic_today
from carereg.forms import show_errors_on_form
from patients.access import get_open_episode_or_404, get_patient_for_user
from registry.entered_in_error import entered_in_error_page
from registry.models import RegistrySettings


def _can_see_referral_list(user) -> bool:
    return user.is_superuser or user.role in (Role.CARE_MANAGER, Role.CLINIC_ADMIN)


def _chosen_clinic(request: HttpRequest):
    """The clinic a clinic-wide page shows: ?clinic=<id> among the user's clinics, else their first."""
    clinics = list(request.user.visible_clinics())
    clinic = next((c for c in clinics if str(c.pk) == request.GET.get("clinic")), clinics[0] if clinics else None)
    if clinic is None:
        raise Http404("You belong to no clinic.")
    return clinic, clinics


# --- Medications ---------------------------------------------------------------------------------


def _medication_fields(form: MedicationForm) -> dict:
    return {name: form.cleaned_data[name] for name in form.Meta.fields}


def add_medication(request: HttpRequest, patient_pk: int) -> HttpResponse:
    patient = get_patient_for_user(request.user, patient_pk)
    require(can_write_clinical(request.user), "record medications")
    episode = get_open_episode_or_404(patient)
    form = MedicationForm(request.POST or None, episode=episode)
    if request.method == "POST" and form.is_valid():
        try:
            medication = services.add_medication(episode=episode, by=request.user, **_medication_fields(form))
        except ValidationError as error:
            show_errors_on_form(form, error)
        else:
            messages.success(request, f"{medication} added to the medication list.")
            return redirect("patients:detail", pk=patient.pk)
    return render(request, "care/medication_form.html", {"patient": patient, "form": form, "medication": None})


def edit_medication(request: HttpRequest, pk: int) -> HttpResponse:
    medication = get_medication_for_user(request.user, pk)
    require(can_write_clinical(request.user), "change medications")
    patient = medication.episode.patient
    if not medication.is_current:
        raise Http404("A stopped medication is not edited.")
    form = MedicationForm(request.POST or None, instance=medication, episode=medication.episode)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_medication(medication=medication, by=request.user, **_medication_fields(form))
        except ValidationError as error:
            show_errors_on_form(form, error)
        else:
            messages.success(request, "Medication saved.")
            return redirect("patients:detail", pk=patient.pk)
    return render(request, "care/medication_form.html", {"patient": patient, "form": form, "medication": medication})


def stop_medication(request: HttpRequest, pk: int) -> HttpResponse:
    medication = get_medication_for_user(request.user, pk)
    require(can_write_clinical(request.user), "stop medications")
    patient = medication.episode.patient
    form = StopMedicationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.stop_medication(
                medication=medication,
                by=request.user,
                stopped_on=form.cleaned_data["stopped_on"],
                reason=form.cleaned_data["stop_reason"],
            )
        except ValidationError as error:
            show_errors_on_form(form, error)
        else:
            messages.success(request, f"{medication} stopped.")
            return redirect("patients:detail", pk=patient.pk)
    return render(request, "care/medication_stop.html", {"patient": patient, "form": form, "medication": medication})


# --- Referrals -----------------------------------------------------------------------------------


def add_referral(request: HttpRequest, patient_pk: int) -> HttpResponse:
    patient = get_patient_for_user(request.user, patient_pk)
    require(can_write_clinical(request.user), "make referrals")
    episode = get_open_episode_or_404(patient)
    form = ReferralForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            referral = services.make_referral(episode=episode, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            show_errors_on_form(form, error)
        else:
            messages.success(request, f"{referral} recorded as sent.")
            return redirect("patients:detail", pk=patient.pk)
    return render(request, "care/referral_form.html", {"patient": patient, "form": form})


def referral_status(request: HttpRequest, pk: int) -> HttpResponse:
    referral = get_referral_for_user(request.user, pk)
    require(can_write_clinical(request.user), "update referrals")
    patient = referral.episode.patient
    form = ReferralStatusForm(request.POST or None, referral=referral)
    if request.method == "POST" and form.is_valid():
        try:
            referral = services.change_referral_status(referral=referral, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            show_errors_on_form(form, error)
        else:
            messages.success(request, f"{referral}: {referral.get_status_display().lower()}.")
            return redirect("patients:detail", pk=patient.pk)
    history = list(referral.history.select_related("history_user").order_by("history_date"))
    return render(
        request,
        "care/referral_status.html",
        {"patient": patient, "referral": referral, "form": form, "history": history},
    )


def referrals_to_follow_up(request: HttpRequest) -> HttpResponse:
    require(_can_see_referral_list(request.user), "see the referral follow-up list")
    clinic, clinics = _chosen_clinic(request)
    days = RegistrySettings.for_clinic(clinic).referral_overdue_days
    today = clinic_today(clinic)
    referrals = list(services.referrals_to_follow_up(clinic, today, days))
    for referral in referrals:
        referral.days_open = (today - referral.sent_on).days
    return render(
        request,
        "care/referrals_to_follow_up.html",
        {"clinic": clinic, "clinics": clinics, "referrals": referrals, "days": days, "today": today},
    )


# --- Education -----------------------------------------------------------------------------------


def give_education(request: HttpRequest, patient_pk: int) -> HttpResponse:
    patient = get_patient_for_user(request.user, patient_pk)
    require(can_write_clinical(request.user), "record education")
    episode = get_open_episode_or_404(patient)
    form = EducationGivenForm(request.POST or None, episode=episode)
    if request.method == "POST" and form.is_valid():
        try:
            given = services.give_education(episode=episode, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            show_errors_on_form(form, error)
        else:
            messages.success(request, f"Recorded: {given.topic} given {given.get_how_display().lower()}.")
            return redirect("patients:detail", pk=patient.pk)
    return render(request, "care/education_given_form.html", {"patient": patient, "form": form})


def topic_list(request: HttpRequest) -> HttpResponse:
    clinic, clinics = _chosen_clinic(request)
    topics = list(EducationTopic.objects.filter(clinic=clinic))
    return render(
        request,
        "care/topic_list.html",
        {"clinic": clinic, "clinics": clinics, "topics": topics, "can_edit": can_administer_clinic(request.user)},
    )


def add_topic(request: HttpRequest) -> HttpResponse:
    require(can_administer_clinic(request.user), "edit the education library")
    clinic, _ = _chosen_clinic(request)
    return _topic_form(request, clinic, None)


def edit_topic(request: HttpRequest, pk: int) -> HttpResponse:
    topic = get_topic_for_user(request.user, pk)
    require(can_administer_clinic(request.user), "edit the education library")
    return _topic_form(request, topic.clinic, topic)


def _topic_form(request: HttpRequest, clinic, topic) -> HttpResponse:
    form = EducationTopicForm(request.POST or None, instance=topic)
    if request.method == "POST" and form.is_valid():
        try:
            topic = services.save_topic(clinic=clinic, by=request.user, topic=topic, **form.cleaned_data)
        except ValidationError as error:
            show_errors_on_form(form, error)
        else:
            messages.success(request, f"“{topic}” saved in the library of {clinic.name}.")
            return redirect(f"{reverse('care:topics')}?clinic={clinic.pk}")
    return render(request, "care/topic_form.html", {"clinic": clinic, "form": form, "topic": topic})


def print_topic(request: HttpRequest, pk: int) -> HttpResponse:
    topic = get_topic_for_user(request.user, pk)
    paragraphs = [p.strip() for p in topic.handout_text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return render(request, "care/topic_print.html", {"topic": topic, "paragraphs": paragraphs})


# --- Entered in error ----------------------------------------------------------------------------

IN_ERROR_CONSEQUENCE = "It will leave the patient page and the lists; its change history keeps it, with your reason."


def medication_entered_in_error(request: HttpRequest, pk: int) -> HttpResponse:
    medication = get_medication_for_user(request.user, pk)
    mark = partial(services.mark_medication_entered_in_error, medication=medication)
    return entered_in_error_page(
        request, medication, mark, "medication", named=f"“{medication}”", consequence=IN_ERROR_CONSEQUENCE
    )


def referral_entered_in_error(request: HttpRequest, pk: int) -> HttpResponse:
    referral = get_referral_for_user(request.user, pk)
    mark = partial(services.mark_referral_entered_in_error, referral=referral)
    return entered_in_error_page(
        request, referral, mark, "referral", named=f"“{referral}”", consequence=IN_ERROR_CONSEQUENCE
    )


def education_given_entered_in_error(request: HttpRequest, pk: int) -> HttpResponse:
    given = get_education_given_for_user(request.user, pk)
    mark = partial(services.mark_education_given_entered_in_error, education_given=given)
    return entered_in_error_page(
        request, given, mark, "education record", named=f"“{given}”", consequence=IN_ERROR_CONSEQUENCE
    )
