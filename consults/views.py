import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Case, Exists, OuterRef, Prefetch, Q, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Role, User
from accounts.permissions import can_write_clinical, require
from carereg.forms import show_errors_on_form
from consults import services
from consults.agenda import build_agendas, clinic_today
from consults.figures import DEFINITIONS, review_figures
from consults.forms import AddToAgendaForm, CaseReviewForm, QuestionForm, SessionForm
from consults.models import Agenda, AgendaItem, CaseReview
from patients.access import get_patient_for_user
from patients.models import Episode
from registry.models import Flag
from registry.safety import attach_safety_facts, safety_awaits_review


def can_edit_agenda(user, agenda: Agenda) -> bool:
    return user.is_superuser or user.role == Role.CLINIC_ADMIN or user.pk == agenda.care_manager_id


def _agendas_for(user):
    agendas = Agenda.objects.visible_to(user).select_related("care_manager", "consultant", "clinic")
    if user.role == Role.CARE_MANAGER:
        return agendas.filter(care_manager=user)
    if user.role == Role.PSYCHIATRIC_CONSULTANT:
        return agendas.filter(consultant=user)
    return agendas


def agenda_list(request: HttpRequest) -> HttpResponse:
    """The sessions; for a consultant also their home: the next sessions, the patients awaiting
    review across the care managers they support, and their unsigned drafts."""
    today = timezone.localdate()
    context = {
        "agendas": _agendas_for(request.user)[:60],
        "can_build": can_write_clinical(request.user),
        "today": today,
    }
    if request.user.role == Role.PSYCHIATRIC_CONSULTANT:
        context.update(_consultant_home(request.user, today))
    return render(request, "consults/agenda_list.html", context)


AWAITING_REVIEW = [Flag.Kind.SAFETY, Flag.Kind.NOT_IMPROVING, Flag.Kind.NEW_PATIENT, Flag.Kind.NEEDS_DISCUSSION]


def _consultant_home(consultant, today) -> dict:
    """Every list scoped by the clinics the consultant has now (accounts/scoping.py): one
    removed from a clinic no longer sees its patients, drafts or sessions."""
    awaiting = list(awaiting_review(consultant)[:200])
    attach_safety_facts(awaiting, today)
    return {
        "next_sessions": Agenda.objects.visible_to(consultant)
        .filter(consultant=consultant, week_of__gte=today - datetime.timedelta(days=6))
        .select_related("care_manager", "clinic")
        .order_by("week_of"),
        "awaiting": awaiting,
        "drafts": CaseReview.objects.visible_to(consultant)
        .filter(consultant=consultant, signed_at__isnull=True)
        .select_related("episode__patient"),
    }


def awaiting_review(consultant):
    """The consultant's open patients with a reason for review, most urgent first: a safety
    event not yet reviewed, then not improving, then new, then the rest; by name, then MRN
    (two "Lee, Dmitri" are told apart by it)."""
    open_flag = Flag.objects.filter(episode=OuterRef("pk"), resolved_at__isnull=True)
    return (
        Episode.objects.visible_to(consultant)
        .open()
        .filter(patient__psychiatric_consultant=consultant)
        .alias(
            safety=safety_awaits_review(),
            awaiting=Exists(open_flag.filter(kind__in=AWAITING_REVIEW)),
            not_improving=Exists(open_flag.filter(kind=Flag.Kind.NOT_IMPROVING)),
            new=Exists(open_flag.filter(kind=Flag.Kind.NEW_PATIENT)),
        )
        .filter(Q(awaiting=True) | Q(safety=True))
        .annotate(
            urgency=Case(
                When(safety=True, then=Value(0)),
                When(not_improving=True, then=Value(1)),
                When(new=True, then=Value(2)),
                default=Value(3),
            )
        )
        .select_related("patient", "patient__care_manager")
        .prefetch_related(
            Prefetch(
                "flags",
                queryset=Flag.objects.filter(resolved_at__isnull=True, kind__in=AWAITING_REVIEW),
                to_attr="open_flags",
            )
        )
        .order_by("urgency", "patient__last_name", "patient__first_name", "patient__mrn")
    )


def report(request: HttpRequest) -> HttpResponse:
    """The case review program's figures, per care manager and in all, with their definitions."""
    today = timezone.localdate()
    episodes = Episode.objects.visible_to(request.user).open()
    care_managers = (
        User.objects.filter(role=Role.CARE_MANAGER, clinics__in=request.user.visible_clinics())
        .distinct()
        .order_by("last_name")
    )
    rows = [(cm, review_figures(episodes.filter(patient__care_manager=cm), today)) for cm in care_managers]
    return render(
        request,
        "consults/report.html",
        {"total": review_figures(episodes, today), "rows": rows, "definitions": DEFINITIONS},
    )


@require_POST
def update_session(request: HttpRequest, pk: int) -> HttpResponse:
    """The meeting's date and format, set by its care manager or consultant."""
    agenda = agenda_for_user(request.user, pk)
    require(can_edit_agenda(request.user, agenda) or request.user.pk == agenda.consultant_id, "change this session")
    form = SessionForm(request.POST)
    if form.is_valid():
        agenda.meeting_on, agenda.format = form.cleaned_data["meeting_on"], form.cleaned_data["format"]
        agenda._history_user = request.user
        agenda.save(update_fields=["meeting_on", "format"])
        messages.success(request, "Session updated.")
    else:
        messages.error(request, "Give the meeting date and format.")
    return redirect("consults:agenda", pk=agenda.pk)


@require_POST
def build_now(request: HttpRequest) -> HttpResponse:
    """Build (or bring up to date) this week's agendas now, without waiting for the schedule."""
    require(can_write_clinical(request.user), "build caseload review agendas")
    built = sum(len(build_agendas(clinic, clinic_today(clinic))) for clinic in request.user.visible_clinics())
    messages.success(request, f"{built} agenda{'s' if built != 1 else ''} for this week built or brought up to date.")
    return redirect("consults:agendas")


def agenda_for_user(user, pk: int) -> Agenda:
    """Any session of the user's clinics opens (a consultant covering for a colleague, a care
    manager covering a caseload); the lists show each their own, and only its care manager
    (or a clinic admin) changes an agenda."""
    agendas = Agenda.objects.visible_to(user).select_related("care_manager", "consultant", "clinic")
    return get_object_or_404(agendas, pk=pk)


def agenda_detail(request: HttpRequest, pk: int) -> HttpResponse:
    agenda = agenda_for_user(request.user, pk)
    open_flags = Prefetch(
        "episode__flags", queryset=Flag.objects.filter(resolved_at__isnull=True), to_attr="open_flags"
    )
    items = list(
        agenda.items.select_related("episode__patient", "added_by", "removed_by", "case_review").prefetch_related(
            open_flags
        )
    )
    on_agenda = [item for item in items if item.removed_at is None]
    attach_safety_facts(item.episode for item in on_agenda)
    editable = can_edit_agenda(request.user, agenda)
    addable = (
        Episode.objects.open()
        .filter(patient__care_manager=agenda.care_manager, patient__clinic=agenda.clinic)
        .filter(Q(patient__psychiatric_consultant=agenda.consultant) if agenda.consultant_id else Q())
        .exclude(pk__in=[item.episode_id for item in on_agenda])
        .select_related("patient")
        .order_by("patient__last_name", "patient__first_name")
    )
    return render(
        request,
        "consults/agenda_detail.html",
        {
            "agenda": agenda,
            "items": on_agenda,
            "removed": [item for item in items if item.removed_at is not None],
            "editable": editable,
            "add_form": AddToAgendaForm(episodes=addable) if editable else None,
            "can_write_notes": request.user.role == Role.PSYCHIATRIC_CONSULTANT,
            "can_set_session": editable or request.user.pk == agenda.consultant_id,
            "formats": Agenda._meta.get_field("format").choices,
        },
    )


def _item_for_editor(request: HttpRequest, agenda_pk: int, item_pk: int) -> AgendaItem:
    agenda = agenda_for_user(request.user, agenda_pk)
    require(can_edit_agenda(request.user, agenda), "change this agenda")
    return get_object_or_404(agenda.items.select_related("agenda"), pk=item_pk)


@require_POST
def add_item(request: HttpRequest, pk: int) -> HttpResponse:
    agenda = agenda_for_user(request.user, pk)
    require(can_edit_agenda(request.user, agenda), "change this agenda")
    episodes = Episode.objects.visible_to(request.user).open().filter(patient__care_manager=agenda.care_manager)
    form = AddToAgendaForm(request.POST, episodes=episodes)
    if form.is_valid():
        try:
            services.add_to_agenda(
                agenda=agenda, episode=form.cleaned_data["episode"], by=request.user, note=form.cleaned_data["note"]
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    else:
        messages.error(request, "Choose a patient from the caseload.")
    return redirect("consults:agenda", pk=agenda.pk)


@require_POST
def remove_item(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    item = _item_for_editor(request, pk, item_pk)
    services.remove_from_agenda(item=item, by=request.user)
    return redirect("consults:agenda", pk=pk)


@require_POST
def restore_item(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    item = _item_for_editor(request, pk, item_pk)
    try:
        services.add_to_agenda(agenda=item.agenda, episode=item.episode, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("consults:agenda", pk=pk)


@require_POST
def move_item(request: HttpRequest, pk: int, item_pk: int, direction: str) -> HttpResponse:
    if direction not in ("up", "down"):
        raise Http404("Move up or down.")
    item = _item_for_editor(request, pk, item_pk)
    services.move_on_agenda(item=item, by=request.user, step=-1 if direction == "up" else 1)
    return redirect(reverse("consults:agenda", kwargs={"pk": pk}) + f"#item-{item.pk}")


@require_POST
def set_question(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    item = _item_for_editor(request, pk, item_pk)
    form = QuestionForm(request.POST)
    if form.is_valid():
        services.set_item_question(item=item, by=request.user, note=form.cleaned_data["note"])
    return redirect("consults:agenda", pk=pk)


def record_review(request: HttpRequest, patient_pk: int) -> HttpResponse:
    patient = get_patient_for_user(request.user, patient_pk)
    require(can_write_clinical(request.user) or request.user.role == Role.PSYCHIATRIC_CONSULTANT, "record case reviews")
    episode = get_object_or_404(patient.episodes.open())
    form = CaseReviewForm(
        request.POST or None, clinic=patient.clinic, initial={"consultant": patient.psychiatric_consultant}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.record_case_review(episode=episode, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            show_errors_on_form(form, error)
        else:
            messages.success(request, "Case review recorded.")
            return redirect("patients:detail", pk=patient.pk)
    return render(request, "consults/record_review.html", {"patient": patient, "episode": episode, "form": form})
