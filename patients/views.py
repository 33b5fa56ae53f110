from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import can_resolve_safety, can_write_clinical, require
from carereg.forms import show_errors_on_form
from patients import services
from patients.access import get_patient_for_user
from patients.forms import EnrollForm, PatientForm, ReenrollForm, StatusForm
from patients.models import Episode
from patients.panels import panels_context
from patients.plans import with_plans
from patients.services import relapse_plan_missing


def enroll(request: HttpRequest) -> HttpResponse:
    require(can_write_clinical(request.user), "enroll patients")
    clinics = request.user.visible_clinics()
    form = EnrollForm(request.POST or None, clinics=clinics, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.enroll_patient(
                clinic=form.cleaned_data["clinic"],
                enrolled_on=form.cleaned_data["enrolled_on"],
                by=request.user,
                **form.patient_fields(),
            )
        except ValidationError as error:
            show_errors_on_form(form, error)
        else:
            messages.success(request, f"{patient.full_name} is enrolled.")
            return redirect("patients:detail", pk=patient.pk)
    return render(request, "patients/enroll.html", {"form": form}, status=400 if form.is_bound else 200)


def edit(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient_for_user(request.user, pk)
    require(can_write_clinical(request.user), "edit patients")
    clinics = request.user.visible_clinics().filter(pk=patient.clinic_id)
    form = PatientForm(request.POST or None, instance=patient, clinics=clinics)
    if request.method == "POST" and form.is_valid():
        try:
            changed = {f: form.cleaned_data[f] for f in form.changed_data if f != "version"}
            services.update_patient(patient=patient, by=request.user, version=form.cleaned_data["version"], **changed)
        except ValidationError as error:
            if services.STALE_EDIT in error.messages:  # someone saved first: theirs, with this user's edits on top
                form = PatientForm.after_conflict(form, clinics=clinics)
            show_errors_on_form(form, error)
        else:
            messages.success(request, "Saved.")
            return redirect("patients:detail", pk=patient.pk)
    return render(request, "patients/edit.html", {"form": form, "patient": patient})


def detail(request: HttpRequest, pk: int, episode_pk: int | None = None) -> HttpResponse:
    patient = get_patient_for_user(request.user, pk, allow_emergency=True)
    return _detail_page(request, patient, episode_pk)


def _detail_page(request: HttpRequest, patient, episode_pk: int | None = None, **forms) -> HttpResponse:
    """The patient page; forms given are the ones just refused, drawn with what was typed (status 400)."""
    today = timezone.localdate()
    episodes = list(with_plans(patient.episodes.all(), today))  # the plan panels read them from here
    if episode_pk is not None:
        episode = next((e for e in episodes if e.pk == episode_pk), None)
        if episode is None:
            raise Http404("No such episode for this patient.")
    else:
        episode = next((e for e in episodes if e.is_open), episodes[0] if episodes else None)
    context = {
        "patient": patient,
        "episodes": episodes,
        "episode": episode,
        "today": today,
        "age": patient.age_on(today),
        "can_edit_patient": can_write_clinical(request.user),
    }
    if episode is not None:
        context.update(_episode_context(request, episode))
        context = panels_context(request, episode, context)  # registry, plans, case reviews, care, charts
    context.update(forms)
    return render(request, "patients/detail.html", context, status=400 if forms else 200)


def _episode_context(request: HttpRequest, episode: Episode) -> dict:
    return {
        "can_write": can_write_clinical(request.user) and episode.is_open,
        "can_resolve_safety": can_resolve_safety(request.user),
        "is_consultant": request.user.role == Role.PSYCHIATRIC_CONSULTANT,
        "status_form": StatusForm(episode=episode)
        if can_write_clinical(request.user) and episode.is_open and episode.allowed_next_statuses()
        else None,
        "reenroll_form": ReenrollForm() if can_write_clinical(request.user) and not episode.is_open else None,
    }


@require_POST
def change_status(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient_for_user(request.user, pk)
    require(can_write_clinical(request.user), "change an episode's status")
    episode = get_object_or_404(patient.episodes.open())
    form = StatusForm(request.POST, episode=episode)
    if form.is_valid() and form.cleaned_data["status"] == Episode.Status.RELAPSE_PREVENTION:
        missing = relapse_plan_missing(episode)
        if missing:
            # docs/clinical-definitions.md#episodes-and-status: the status moves to relapse
            # prevention with the plan, so write it first.
            messages.info(request, f"{missing}: the episode moves to relapse prevention when it is complete.")
            return redirect(f"{reverse('patients:relapse_plan', args=[patient.pk])}?then=relapse_prevention")
    if form.is_valid():
        try:
            services.change_status(episode=episode, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            show_errors_on_form(form, error)
        else:
            messages.success(request, f"Status changed to {episode.Status(form.cleaned_data['status']).label.lower()}.")
            return redirect("patients:detail", pk=patient.pk)
    return _detail_page(request, patient, episode.pk, status_form=form)


@require_POST
def reenroll(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_patient_for_user(request.user, pk)
    require(can_write_clinical(request.user), "enroll patients")
    form = ReenrollForm(request.POST)
    if form.is_valid():
        try:
            services.start_episode(patient=patient, enrolled_on=form.cleaned_data["enrolled_on"], by=request.user)
        except ValidationError as error:
            show_errors_on_form(form, error)
        else:
            messages.success(request, "A new episode of care has begun.")
            return redirect("patients:detail", pk=patient.pk)
    return _detail_page(request, patient, reenroll_form=form)
