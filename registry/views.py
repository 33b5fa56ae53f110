import uuid
from functools import partial

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import can_administer_clinic, can_resolve_safety, can_write_clinical, require
from carereg.forms import show_errors_on_form
from patients.access import get_open_episode_or_404, get_patient_for_user
from patients.models import Episode
from registry import services
from registry.access import get_contact_for_user, get_flag_for_user, get_measurement_for_user
from registry.caseload import CaseloadFilter, caseload_rows, due_today, scope_to_team
from registry.dashboard_figures import care_manager_overview, dashboard_figures
from registry.dashboard_forms import (
    SEARCH_KEPT_FOR,
    CaseloadForm,
    ColumnsForm,
    SearchForm,
    active_search,
    remember_search,
    shown_columns,
)
from registry.entered_in_error import entered_in_error_page
from registry.figures_cache import FIGURES_KEPT_FOR, cached_figures
from registry.forms import (
    ContactForm,
    ItemAnswersForm,
    MeasurementForm,
    RegistrySettingsForm,
    RequestReviewForm,
    ResolveFlagForm,
    SafetyAssessmentForm,
)
from registry.models import CaseloadPreferences, ContactSubmission, Flag, RegistrySettings, SafetyAssessment
from registry.reviews import case_reviews
from registry.safety import attach_safety_facts
from registry.scoring import INSTRUMENTS, raises_safety_flag
from registry.visits import visit_parts

# Where each role's work is: the page CareReg opens on (docs/user-guide.md#where-each-role-starts).
HOMES = {
    Role.CARE_MANAGER: "registry:dashboard",
    Role.PSYCHIATRIC_CONSULTANT: "consults:agendas",
    Role.MEDICAL_PROVIDER: "consults:pcp_home",
    Role.CLINIC_ADMIN: "registry:program",
}


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_superuser and not request.user.role:
        return redirect("registry:program")
    return redirect(HOMES.get(request.user.role, "registry:dashboard"))


def dashboard(request: HttpRequest) -> HttpResponse:
    # Names and MRNs typed into search are PHI: they travel in a POST body and live in the
    # session, never in the URL (which web servers and browsers log).
    if request.method == "POST":
        search = SearchForm(request.POST)
        remember_search(request.session, search.cleaned_data["q"] if search.is_valid() else "")
        return redirect(f"{reverse('registry:dashboard')}?{request.GET.urlencode()}")
    search_text = active_search(request.session, touch=True)
    form = CaseloadForm(request.GET, user=request.user)
    choices = form.cleaned()
    today = timezone.localdate()
    caseload = scope_to_team(Episode.objects.visible_to(request.user).open(), request.user, choices["team"])
    narrowing = CaseloadFilter(status=choices["status"], flags=choices["flags"], search=search_text)
    (stats, reviews), figures_as_of = cached_figures(caseload, today, partial(dashboard_figures, caseload, today))
    paginator = Paginator(caseload_rows(narrowing.apply(caseload), today, choices["sort"]), 50)
    if not narrowing.narrows:
        paginator.count = stats["active"]  # the statistics counted these rows already: no second COUNT
    page = paginator.get_page(request.GET.get("page"))
    attach_safety_facts(page, today)
    preferences = CaseloadPreferences.objects.filter(user=request.user).first()
    return render(
        request,
        "registry/dashboard.html",
        {
            "page": page,
            "form": form,
            "chosen_flags": choices["flags"],
            "search_form": SearchForm(initial={"q": search_text}),
            "search_text": search_text,
            "search_minutes": int(SEARCH_KEPT_FOR.total_seconds() // 60),
            "stats": stats,
            "review_figures": reviews,
            "figures_as_of": figures_as_of,
            "figures_kept_minutes": int(FIGURES_KEPT_FOR.total_seconds() // 60),
            "sort": choices["sort"],
            "today": today,
            "can_write": can_write_clinical(request.user),
            "show": shown_columns(preferences),
            "compact": bool(preferences and preferences.compact),
            "columns_form": ColumnsForm.of(preferences),
        },
    )


@require_POST
def caseload_columns(request: HttpRequest) -> HttpResponse:
    """Save the user's choice of caseload columns and density, then back to the caseload as it was."""
    form = ColumnsForm(request.POST)
    if not form.is_valid():
        return render(request, "registry/caseload_columns.html", {"columns_form": form}, status=400)
    form.save(request.user)
    messages.success(request, "Your caseload columns are saved.")
    back = request.POST.get("next", "")  # the caseload's own query (team, filters, sort): never another site
    return redirect(reverse("registry:dashboard") + (back if back.startswith("?") else ""))


def today_list(request: HttpRequest) -> HttpResponse:
    """Who is due or overdue for a contact today, with their phone numbers, safety first."""
    form = CaseloadForm(request.GET, user=request.user)
    choices = form.cleaned()
    today = timezone.localdate()
    caseload = scope_to_team(Episode.objects.visible_to(request.user).open(), request.user, choices["team"])
    rows = list(due_today(caseload, today)[:300])
    attach_safety_facts(rows, today)
    return render(request, "registry/today.html", {"rows": rows, "form": form, "today": today})


def program(request: HttpRequest) -> HttpResponse:
    """The clinic admin's home: the whole program's figures and each care manager's caseload."""
    require(can_administer_clinic(request.user), "see the program overview")
    today = timezone.localdate()
    episodes = Episode.objects.visible_to(request.user)
    stats, reviews = dashboard_figures(episodes.open(), today)
    return render(
        request,
        "registry/program.html",
        {
            "stats": stats,
            "review_figures": reviews,
            "care_managers": care_manager_overview(request.user, episodes),
            "unassigned": episodes.open().filter(patient__care_manager__isnull=True).count(),
            "today": today,
        },
    )


def record_contact(request: HttpRequest, patient_pk: int) -> HttpResponse:
    patient = get_patient_for_user(request.user, patient_pk)
    require(can_write_clinical(request.user), "record contacts")
    episode = get_open_episode_or_404(patient)
    data = request.POST or None
    if data is not None and _saved_submission(data.get("submission")):
        return _already_saved(request, patient)
    form = ContactForm(data, clinic=patient.clinic)
    offered = RegistrySettings.for_clinic(patient.clinic).offered_instruments()
    score_forms = [
        ItemAnswersForm(data, instrument=instrument, required=False)
        for instrument in offered
        if instrument.asked_at_each_contact
    ]
    # What the apps above add (care: medication reports, sessions, a referral, education), saved
    # with the contact or not at all.
    parts = visit_parts(data, episode=episode)
    if request.method == "POST" and all([form.is_valid()] + [p.is_valid() for p in parts + score_forms]):
        scores = [answers for answers in (f.answers() for f in score_forms) if answers]
        fields = dict(form.cleaned_data)
        for part in parts:
            fields["interventions"] = part.interventions_with(fields["interventions"])
        token = fields.pop("submission")
        try:
            _contact, saved = services.record_visit(
                episode=episode, by=request.user, scores=scores, parts=parts, submission=token, **fields
            )
            details = any(saved)
        except ValidationError as error:
            if not any(part.show_errors(error) for part in parts):
                show_errors_on_form(form, error)
        except IntegrityError:
            if not _saved_submission(token):
                raise
            return _already_saved(request, patient)
        else:
            messages.success(
                request, "Contact saved" + (" with scores" if scores else "") + (" and treatment." if details else ".")
            )
            safety = _safety_flag_raised(episode, scores)
            if safety:  # the answer calls for a safety assessment now: straight to it
                messages.warning(request, f"{safety.reason} Record the safety assessment now.")
                return redirect("registry:resolve_flag", pk=safety.pk)
            return redirect("patients:detail", pk=patient.pk)
    return render(
        request,
        "registry/record_contact.html",
        {"patient": patient, "episode": episode, "form": form, "score_forms": score_forms, "parts": parts},
        status=400 if data is not None else 200,  # a refused contact, drawn again with what was typed
    )


def _safety_flag_raised(episode: Episode, scores) -> Flag | None:
    """The open safety flag, when an answer of these scores calls for one (docs/clinical-definitions.md#safety)."""
    if not any(raises_safety_flag(INSTRUMENTS[answers.instrument], answers.answers) for answers in scores):
        return None
    return Flag.objects.filter(episode=episode, kind=Flag.Kind.SAFETY, resolved_at__isnull=True).first()


def _saved_submission(token) -> ContactSubmission | None:
    """The earlier post of this very form, when it saved its contact."""
    try:
        token = uuid.UUID(str(token))
    except ValueError:
        return None
    return ContactSubmission.objects.filter(token=token).first()


def _already_saved(request: HttpRequest, patient) -> HttpResponse:
    messages.info(request, "This contact was already saved (the form was sent twice); it was not saved again.")
    return redirect("patients:detail", pk=patient.pk)


def record_measurement(request: HttpRequest, patient_pk: int, instrument: str) -> HttpResponse:
    patient = get_patient_for_user(request.user, patient_pk)
    require(can_write_clinical(request.user), "record scores")
    offered = {i.code: i for i in RegistrySettings.for_clinic(patient.clinic).offered_instruments()}
    if instrument not in offered:
        raise Http404("This clinic does not use that instrument.")
    episode = get_open_episode_or_404(patient)
    form = MeasurementForm(request.POST or None, instrument=offered[instrument])
    if request.method == "POST" and form.is_valid():
        try:
            measurement = services.record_measurement(
                episode=episode, answers=form.answers(), taken_on=form.cleaned_data["taken_on"], by=request.user
            )
        except ValidationError as error:
            show_errors_on_form(form, error)
        else:
            messages.success(
                request, f"{measurement.get_instrument_display()} saved: {measurement.total} ({measurement.band})."
            )
            return redirect("patients:detail", pk=patient.pk)
    return render(request, "registry/record_measurement.html", {"patient": patient, "episode": episode, "form": form})


def resolve_flag(request: HttpRequest, pk: int) -> HttpResponse:
    """Close an open flag: a safety flag with a documented safety assessment (and the C-SSRS
    screener when the clinic uses it), any other with a note."""
    flag = get_flag_for_user(request.user, pk)
    if not flag.is_open:
        raise Http404("This flag is already resolved.")
    safety = flag.kind == Flag.Kind.SAFETY
    require(can_resolve_safety(request.user) if safety else can_write_clinical(request.user), "resolve this flag")
    patient = flag.episode.patient
    form = (SafetyAssessmentForm if safety else ResolveFlagForm)(request.POST or None)
    screener = _cssrs_form(patient, request.POST or None) if safety else None
    if request.method == "POST" and form.is_valid() and (screener is None or screener.is_valid()):
        try:
            with transaction.atomic():
                if safety:
                    _record_safety_assessment(request, flag, form, screener)
                else:
                    services.resolve_flag(flag=flag, by=request.user, note=form.cleaned_data["note"])
        except ValidationError as error:
            show_errors_on_form(form, error)
        else:
            done = "Safety assessment recorded; the safety flag is resolved." if safety else "Flag resolved."
            messages.success(request, done)
            return redirect("patients:detail", pk=patient.pk)
    return render(
        request,
        "registry/resolve_flag.html",
        {"flag": flag, "patient": patient, "form": form, "safety": safety, "screener": screener},
    )


def _cssrs_form(patient, data) -> ItemAnswersForm | None:
    """The C-SSRS screener, offered beside the safety assessment when the clinic uses it."""
    offered = RegistrySettings.for_clinic(patient.clinic).offered_instruments()
    screener = next((instrument for instrument in offered if instrument.has_risk_level), None)
    return ItemAnswersForm(data, instrument=screener, required=False) if screener else None


def _record_safety_assessment(request: HttpRequest, flag: Flag, form, screener) -> None:
    """The screener (if answered), the assessment, and the consultant told when ticked: together or not at all."""
    fields = form.assessment_fields()
    answers = screener.answers() if screener else None
    if answers:
        taken_on = timezone.localtime(fields["assessed_at"]).date()
        services.record_measurement(episode=flag.episode, answers=answers, taken_on=taken_on, by=request.user)
    assessment = services.resolve_safety_flag(flag=flag, by=request.user, **fields)
    if SafetyAssessment.Action.CONSULTANT_NOTIFIED in assessment.actions:
        case_reviews().notify_consultant_of_safety(assessment, request.user)


@require_POST
def mark_flags_seen(request: HttpRequest, patient_pk: int) -> HttpResponse:
    """The care manager marks the new flags the patient page showed as seen (docs/user-guide.md#flags):
    those posted that are still open and new, so a flag raised since is still new. Reading the
    page writes nothing."""
    patient = get_patient_for_user(request.user, patient_pk)
    require(request.user.pk == patient.care_manager_id, "mark this patient's flags seen")
    episode = get_open_episode_or_404(patient)
    shown = [int(value) for value in request.POST.getlist("flag") if value.isdigit()]
    if services.mark_flags_seen(episode=episode, by=request.user, flags=shown):
        messages.success(request, "Flags marked as seen.")
    return redirect("patients:detail", pk=patient.pk)


def request_review(request: HttpRequest, patient_pk: int) -> HttpResponse:
    """The care manager asks for the patient to be discussed at the next caseload review."""
    patient = get_patient_for_user(request.user, patient_pk)
    require(can_write_clinical(request.user), "request case reviews")
    episode = get_open_episode_or_404(patient)
    form = RequestReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.request_case_review(episode=episode, by=request.user, reason=form.cleaned_data["reason"])
                agenda = case_reviews().put_on_next_agenda(episode, request.user)
        except ValidationError as error:
            show_errors_on_form(form, error)
        else:
            if agenda is None:
                messages.warning(request, "Asked. The patient has no care manager, so no agenda yet: assign one.")
            else:
                meets = f"{agenda.meets_on:%a %Y-%m-%d}"
                messages.success(request, f"The patient is on the caseload review agenda of {meets}.")
            return redirect("patients:detail", pk=patient.pk)
    return render(request, "registry/request_review.html", {"patient": patient, "form": form})


def reengagement(request: HttpRequest) -> HttpResponse:
    """Patients discharged for no contact, not enrolled again: to reach out to
    (docs/clinical-definitions.md#episodes-and-status)."""
    # Only the patient's latest episode counts: one enrolled again since is not lost, even if
    # discharged again (for another reason, or listed once for its own no-contact discharge).
    later_episode = Episode.objects.filter(patient=OuterRef("patient")).filter(
        Q(enrolled_on__gt=OuterRef("enrolled_on")) | Q(enrolled_on=OuterRef("enrolled_on"), pk__gt=OuterRef("pk"))
    )
    episodes = (
        Episode.objects.visible_to(request.user)
        .filter(status=Episode.Status.DISCHARGED, discharge_reason=Episode.DischargeReason.NO_CONTACT)
        .exclude(patient__episodes__in=Episode.objects.open())
        .exclude(Exists(later_episode))
        .select_related("patient", "patient__care_manager")
        .order_by("-discharged_on")
    )
    if request.user.role == "care_manager":
        episodes = episodes.filter(patient__care_manager=request.user)
    page = Paginator(episodes, 50).get_page(request.GET.get("page"))
    return render(request, "registry/reengagement.html", {"page": page})


def registry_settings(request: HttpRequest) -> HttpResponse:
    """Clinic admins change their clinic's thresholds (docs/clinical-definitions.md#settings-and-their-defaults)."""
    require(can_administer_clinic(request.user), "change registry settings")
    clinics = list(request.user.visible_clinics())
    clinic = next((c for c in clinics if str(c.pk) == request.GET.get("clinic")), clinics[0] if clinics else None)
    if clinic is None:
        raise Http404("You belong to no clinic.")
    current = RegistrySettings.for_clinic(clinic)
    form = RegistrySettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        saved._history_user = request.user
        saved.save()
        messages.success(request, f"Settings of {clinic.name} saved; flags follow them from the next refresh.")
        services.queue_full_flag_refresh()
        return redirect(f"{reverse('registry:settings')}?clinic={clinic.pk}")
    return render(request, "registry/settings.html", {"form": form, "clinic": clinic, "clinics": clinics})


def contact_entered_in_error(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_contact_for_user(request.user, pk)
    return entered_in_error_page(
        request, contact, partial(services.mark_contact_entered_in_error, contact=contact), "contact"
    )


def measurement_entered_in_error(request: HttpRequest, pk: int) -> HttpResponse:
    measurement = get_measurement_for_user(request.user, pk)
    mark = partial(services.mark_measurement_entered_in_error, measurement=measurement)
    return entered_in_error_page(request, measurement, mark, "measurement")
