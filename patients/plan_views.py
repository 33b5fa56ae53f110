"""The pages of the care manager's plans: initial assessment, treatment plan and its changes,
relapse prevention plan (with the patient's printed copy), and suggested discharges."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import can_write_clinical, require
from carereg.forms import show_errors_on_form
from patients import plans
from patients.access import get_episode_for_user, get_patient_for_user
from patients.diagnoses import COMMON_DIAGNOSES
from patients.forms import (
    EnteredInErrorForm,
    InitialAssessmentForm,
    PlanChangeForm,
    RelapsePlanForm,
    TreatmentPlanForm,
)
from patients.models import Episode, InitialAssessment, Patient, PlanChange, RelapsePreventionPlan, TreatmentPlan
from patients.services import relapse_plan_missing


def _open_episode_for_writer(request: HttpRequest, pk: int, what: str) -> tuple[Patient, Episode]:
    patient = get_patient_for_user(request.user, pk)
    require(can_write_clinical(request.user), what)
    return patient, get_object_or_404(patient.episodes.open())


def _render(request, template: str, patient: Patient, episode: Episode, form, **extra) -> HttpResponse:
    return render(request, template, {"patient": patient, "episode": episode, "form": form, **extra})


def initial_assessment(request: HttpRequest, pk: int) -> HttpResponse:
    patient, episode = _open_episode_for_writer(request, pk, "write initial assessments")
    current = InitialAssessment.objects.filter(episode=episode).first()
    initial = InitialAssessmentForm.initial_from(current) if current else {}
    form = InitialAssessmentForm(request.POST or None, initial=initial, episode=episode)
    if request.method == "POST" and form.is_valid():
        try:
            assessment = plans.save_initial_assessment(
                episode=episode,
                by=request.user,
                completed_on=form.cleaned_data["completed_on"],
                move_to_active=form.cleaned_data.get("move_to_active", False),
                **form.assessment_fields(),
            )
        except ValidationError as error:
            show_errors_on_form(form, error)
        else:
            done = "completed" if assessment.is_complete else "saved as a draft"
            messages.success(request, f"Initial assessment {done}.")
            return redirect("patients:detail", pk=patient.pk)
    return _render(
        request,
        "patients/assessment_form.html",
        patient,
        episode,
        form,
        assessment=current,
        common_diagnoses=COMMON_DIAGNOSES.items(),
    )


def treatment_plan(request: HttpRequest, pk: int) -> HttpResponse:
    patient, episode = _open_episode_for_writer(request, pk, "write treatment plans")
    current = TreatmentPlan.objects.filter(episode=episode).first()
    initial = (
        {"goals": current.goals, "target": current.target, "current_treatments": current.current_treatments}
        if current
        else {"target": TreatmentPlan.DEFAULT_TARGET}
    )
    form = TreatmentPlanForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            plans.save_treatment_plan(episode=episode, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            show_errors_on_form(form, error)
        else:
            messages.success(request, "Treatment plan saved.")
            return redirect("patients:detail", pk=patient.pk)
    return _render(request, "patients/plan_form.html", patient, episode, form, heading="Treatment plan")


def plan_change(request: HttpRequest, pk: int) -> HttpResponse:
    patient, episode = _open_episode_for_writer(request, pk, "record plan changes")
    form = PlanChangeForm(request.POST or None, episode=episode)
    if request.method == "POST" and form.is_valid():
        try:
            plans.record_plan_change(episode=episode, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            show_errors_on_form(form, error)
        else:
            messages.success(request, "Plan change recorded.")
            return redirect("patients:detail", pk=patient.pk)
    return _render(request, "patients/plan_form.html", patient, episode, form, heading="Record a plan change")


@require_POST
def plan_change_from_recommendation(request: HttpRequest, pk: int) -> HttpResponse:
    """One click: the implemented recommendation becomes a dated plan change with its reason."""
    recommendation = get_object_or_404(plans.recommendations().visible_to(request.user), pk=pk)
    require(can_write_clinical(request.user), "record plan changes")
    try:
        plans.record_plan_change_from(recommendation=recommendation, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Plan change recorded from the recommendation: {recommendation}.")
    return redirect("patients:episode", pk=recommendation.episode.patient_id, episode_pk=recommendation.episode_id)


def plan_change_entered_in_error(request: HttpRequest, pk: int) -> HttpResponse:
    change = get_object_or_404(PlanChange.objects.visible_to(request.user).select_related("episode__patient"), pk=pk)
    require(can_write_clinical(request.user), "mark plan changes entered in error")
    patient = change.episode.patient
    form = EnteredInErrorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            plans.mark_plan_change_entered_in_error(change=change, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            show_errors_on_form(form, error)
        else:
            messages.success(request, "Plan change marked entered in error.")
            return redirect("patients:episode", pk=patient.pk, episode_pk=change.episode_id)
    return render(request, "patients/plan_change_error.html", {"patient": patient, "change": change, "form": form})


def relapse_plan(request: HttpRequest, pk: int) -> HttpResponse:
    patient, episode = _open_episode_for_writer(request, pk, "write relapse prevention plans")
    current = RelapsePreventionPlan.objects.filter(episode=episode).first()
    initial = {name: getattr(current, name) for name in plans.RELAPSE_PLAN_FIELDS} if current else {}
    if current:
        initial["completed_on"] = current.completed_on
    moving = request.GET.get("then") == "relapse_prevention" and episode.status == Episode.Status.ACTIVE
    if moving:
        initial["move_to_relapse_prevention"] = True
    form = RelapsePlanForm(request.POST or None, initial=initial, episode=episode)
    if request.method == "POST" and form.is_valid():
        try:
            plan = plans.save_relapse_plan(
                episode=episode,
                by=request.user,
                completed_on=form.cleaned_data["completed_on"],
                move_to_relapse_prevention=form.cleaned_data.get("move_to_relapse_prevention", False),
                **form.plan_fields(),
            )
        except ValidationError as error:
            show_errors_on_form(form, error)
        else:
            done = "completed" if plan.is_complete else "saved as a draft"
            moved = (
                " The episode is in relapse prevention." if form.cleaned_data.get("move_to_relapse_prevention") else ""
            )
            messages.success(request, f"Relapse prevention plan {done}.{moved}")
            return redirect("patients:detail", pk=patient.pk)
    return _render(request, "patients/relapse_plan_form.html", patient, episode, form, plan=current)


def relapse_plan_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The patient's own copy: plain language, large print, the crisis line on it."""
    episode = get_episode_for_user(request.user, pk)
    plan = get_object_or_404(RelapsePreventionPlan, episode=episode)
    patient = Patient.objects.select_related("clinic", "care_manager").get(pk=episode.patient_id)
    return render(
        request,
        "patients/relapse_plan_print.html",
        {"patient": patient, "episode": episode, "plan": plan, "crisis_line": plans.CRISIS_LINE},
    )


def suggested_discharges(request: HttpRequest) -> HttpResponse:
    """Open episodes with no completed contact for the clinic's no-contact days
    (docs/clinical-definitions.md#episodes-and-status)."""
    today = timezone.localdate()
    episodes = (
        plans.suggested_discharges(Episode.objects.visible_to(request.user), today)
        .select_related("patient", "patient__care_manager", "patient__clinic")
        .order_by("no_contact_since", "pk")
    )
    if request.user.role == Role.CARE_MANAGER and request.GET.get("team") != "all":
        episodes = episodes.filter(patient__care_manager=request.user)
    page = Paginator(episodes, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "patients/suggested_discharges.html",
        {"page": page, "today": today, "can_write": can_write_clinical(request.user)},
    )


def discharge_for_no_contact(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then discharge with the reason "no contact for 6 months"."""
    patient, episode = _open_episode_for_writer(request, pk, "discharge patients")
    if request.method == "POST":
        try:
            plans.discharge_for_no_contact(episode=episode, by=request.user, on=timezone.localdate())
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"{patient.full_name} is discharged: no contact for 6 months.")
            return redirect("patients:suggested_discharges")
        return redirect("patients:detail", pk=patient.pk)
    return render(
        request,
        "patients/discharge_confirm.html",
        {
            "patient": patient,
            "episode": episode,
            "suggested": plans.is_suggested_for_discharge(episode, timezone.localdate()),
        },
    )


def plans_panel(request: HttpRequest, episode: Episode, context: dict) -> dict:
    """What the patient page shows of the plans (patients/panels.py): one query (the changes)
    beyond the episode, read with its plans by plans.with_plans."""
    relapse = getattr(episode, "relapse_plan", None)
    changes = list(episode.plan_changes.select_related("recorded_by", "entered_in_error_by", "recommendation"))
    return {
        "assessment": getattr(episode, "assessment", None),
        "treatment_plan": getattr(episode, "treatment_plan", None),
        "plan_changes": changes,
        "relapse_plan": relapse,
        "relapse_plan_missing": relapse_plan_missing(episode, plan=relapse) if episode.is_open else None,
        "discharge_suggested": episode.is_open and episode.discharge_suggested_on <= timezone.localdate(),
    }
