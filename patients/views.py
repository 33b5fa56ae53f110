from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import can_resolve_safety, can_write_clinical, require
from care.panels import care_context
from carereg.forms import show_errors_on_form
from patients import services
from patients.access import get_patient_for_user
from patients.forms import EnrollForm, PatientForm, ReenrollForm, StatusForm
from patients.models import Episode
from patients.plan_views import plans_context
from patients.plans import with_plans
from patients.services import relapse_plan_missing
from registry.caseload import with_registry_columns
from registry.charts import Marker, episode_charts
from registry.forms import ContactForm, ItemAnswersForm
from registry.models import Contact, Measurement, RegistrySettings
from registry.scoring import GAD7, PHQ9
from registry.services import mark_flags_seen


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
        context.update(care_context(episode, request.user))
        context.update(
            plans_context(request, episode, writer=context["can_write"], case_reviews=context["case_reviews"])
        )
        context["charts"] = episode_charts(episode, context.pop("measurements"), treatment_markers(context))
    context.update(forms)
    return render(request, "patients/detail.html", context, status=400 if forms else 200)


def treatment_markers(context: dict) -> list[Marker]:
    """The medication starts and stops and the plan changes the page shows, as chart markers."""
    markers = []
    for medication in context["current_medications"] + context["stopped_medications"]:
        markers.append(Marker("medication", medication.started_on, f"started {medication.name} {medication.dose}"))
        if medication.stopped_on:
            markers.append(Marker("medication", medication.stopped_on, f"stopped {medication.name}"))
    for change in context["plan_changes"]:
        if not change.is_entered_in_error:
            markers.append(Marker("plan", change.changed_on, f"plan changed: {change.what_changed}"))
    return markers


def _episode_context(request: HttpRequest, episode: Episode) -> dict:
    measurements = list(episode.measurements.select_related("recorded_by"))
    contacts = list(
        episode.contacts.select_related("recorded_by", "entered_in_error_by").prefetch_related(
            Prefetch("measurements", queryset=Measurement.objects.order_by("instrument"))
        )
    )
    flags = list(
        episode.flags.select_related("raised_by", "resolved_by", "measurement", "safety_assessment__assessed_by")
    )
    if request.user.pk == episode.patient.care_manager_id:
        # After reading them: this page still shows which flags are new to the care manager.
        mark_flags_seen(episode=episode, by=request.user)
    writer = can_write_clinical(request.user) and episode.is_open
    today = timezone.localdate()
    return {
        "summary": with_registry_columns(Episode.objects.filter(pk=episode.pk), today).get(),
        "timeline": _timeline(contacts, measurements),
        "open_flags": sorted((f for f in flags if f.is_open), key=lambda f: f.priority),
        "closed_flags": [f for f in flags if not f.is_open],
        "measurements": measurements,  # drawn with the treatment's markers once they are known
        "can_write": writer,
        "can_resolve_safety": can_resolve_safety(request.user),
        "is_consultant": request.user.role == Role.PSYCHIATRIC_CONSULTANT,
        "case_reviews": list(episode.case_reviews.select_related("consultant").prefetch_related("recommendations")),
        "contact_form": ContactForm(auto_id="quick_%s") if writer else None,
        "score_forms": [
            ItemAnswersForm(instrument=PHQ9, required=False),
            ItemAnswersForm(instrument=GAD7, required=False),
        ]
        if writer
        else [],
        "status_form": StatusForm(episode=episode) if writer and episode.allowed_next_statuses() else None,
        "reenroll_form": ReenrollForm() if can_write_clinical(request.user) and not episode.is_open else None,
        "instruments": RegistrySettings.for_clinic(episode.patient.clinic).offered_instruments(),
    }


def _timeline(contacts: list[Contact], measurements: list[Measurement]) -> list[dict]:
    """Contacts with the scores taken at them, and scores taken on their own, newest first."""
    entries = [{"date": c.contact_date, "contact": c, "measurements": list(c.measurements.all())} for c in contacts]
    entries += [
        {"date": m.taken_on, "contact": None, "measurements": [m]} for m in measurements if m.contact_id is None
    ]
    return sorted(entries, key=lambda e: (e["date"], e["contact"] is not None), reverse=True)


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
