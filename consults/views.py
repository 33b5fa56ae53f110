import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Exists, OuterRef, Prefetch, Q, Value, When
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import Role, User
from accounts.permissions import can_administer_clinic, can_write_clinical, require
from carereg.dates import clinic_today
from carereg.forms import show_errors_on_form
from consults import services
from consults.agenda import build_agendas, reconcile
from consults.figures import DEFINITIONS, review_figures
from consults.forms import AddToAgendaForm, CaseReviewForm, QuestionForm, QuestionsForm, SessionForm
from consults.models import Agenda, AgendaItem, CaseReview, Notification
from consults.safety_review import awaits_safety_review
from patients.access import get_patient_for_user
from patients.models import Episode
from registry.models import Flag
from registry.safety import attach_safety_facts, safety_awaits_review


def can_edit_agenda(user, agenda: Agenda) -> bool:
    return can_administer_clinic(user) or user.pk == agenda.care_manager_id


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
        .annotate(safety_review=awaits_safety_review())  # the care manager told the consultant: first
        .alias(
            safety=safety_awaits_review(),
            awaiting=Exists(open_flag.filter(kind__in=AWAITING_REVIEW)),
            not_improving=Exists(open_flag.filter(kind=Flag.Kind.NOT_IMPROVING)),
            new=Exists(open_flag.filter(kind=Flag.Kind.NEW_PATIENT)),
        )
        .filter(Q(awaiting=True) | Q(safety=True) | Q(safety_review=True))
        .annotate(
            urgency=Case(
                When(safety_review=True, then=Value(0)),
                When(safety=True, then=Value(1)),
                When(not_improving=True, then=Value(2)),
                When(new=True, then=Value(3)),
                default=Value(4),
            ),
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
    require(not agenda.is_held, "change a session already held")
    form = SessionForm(request.POST)
    if not form.is_valid():  # the page again, the date as typed and the error beside it
        return _agenda_page(request, agenda, session_form=form, status=400)
    agenda.meeting_on, agenda.format = form.cleaned_data["meeting_on"], form.cleaned_data["format"]
    agenda._history_user = request.user
    agenda.save(update_fields=["meeting_on", "format"])
    messages.success(request, "Session updated.")
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
    reconcile(agenda)  # live until the meeting is held: the flags and requests of now
    return _agenda_page(request, agenda)


def _agenda_items(agenda: Agenda) -> list[AgendaItem]:
    open_flags = Prefetch(
        "episode__flags", queryset=Flag.objects.filter(resolved_at__isnull=True), to_attr="open_flags"
    )
    return list(
        agenda.items.select_related("episode__patient", "added_by", "removed_by", "case_review").prefetch_related(
            open_flags
        )
    )


def _agenda_page(
    request: HttpRequest,
    agenda: Agenda,
    *,
    items: list[AgendaItem] | None = None,
    questions: QuestionsForm | None = None,
    add_form: AddToAgendaForm | None = None,
    session_form: SessionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The agenda page; after an invalid post, with everything typed and each error beside its field."""
    items = _agenda_items(agenda) if items is None else items
    on_agenda = [item for item in items if item.removed_at is None]
    attach_safety_facts(item.episode for item in on_agenda)
    editable = can_edit_agenda(request.user, agenda) and not agenda.is_held
    if editable:
        questions = questions or QuestionsForm(items=on_agenda)
        for item in on_agenda:
            item.question = questions.field_for(item)
        add_form = add_form or AddToAgendaForm(episodes=_addable(agenda, on_agenda))
    return render(
        request,
        "consults/agenda_detail.html",
        {
            "agenda": agenda,
            "items": on_agenda,
            "removed": [item for item in items if item.removed_at is not None],
            "editable": editable,
            "add_form": add_form if editable else None,
            "questions": questions if editable else None,  # each row draws its own field of it
            "questions_errors": " ".join(questions.non_field_errors()) if editable else "",
            "can_write_notes": request.user.role == Role.PSYCHIATRIC_CONSULTANT,
            "can_set_session": not agenda.is_held
            and (can_edit_agenda(request.user, agenda) or request.user.pk == agenda.consultant_id),
            "formats": Agenda._meta.get_field("format").choices,
            "session": _session_values(agenda, session_form),
            "session_form": session_form,  # bound after an invalid post: its errors are the page's
        },
        status=status,
    )


def _session_values(agenda: Agenda, form: SessionForm | None) -> dict:
    """The session form's values: as typed after an invalid post, else the agenda's."""
    if form is None:
        return {"meeting_on": agenda.meets_on.isoformat(), "format": agenda.format, "errors": {}}
    return {"meeting_on": form.data.get("meeting_on", ""), "format": form.data.get("format", ""), "errors": form.errors}


def _addable(agenda: Agenda, on_agenda: list[AgendaItem]):
    return (
        Episode.objects.open()
        .filter(patient__care_manager=agenda.care_manager, patient__clinic=agenda.clinic)
        .filter(Q(patient__psychiatric_consultant=agenda.consultant) if agenda.consultant_id else Q())
        .exclude(pk__in=[item.episode_id for item in on_agenda])
        .select_related("patient")
        .order_by("patient__last_name", "patient__first_name")
    )


def _agenda_for_editor(request: HttpRequest, pk: int) -> Agenda:
    agenda = agenda_for_user(request.user, pk)
    require(can_edit_agenda(request.user, agenda), "change this agenda")
    require(not agenda.is_held, "change the agenda of a meeting already held")
    return agenda


def _change_agenda(request: HttpRequest, agenda: Agenda, change, *, add_form=None, anchor: str = "") -> HttpResponse:
    """Every button of the agenda page posts the whole page: the questions typed in any row are
    saved with the change, or, when one is invalid (or the change is refused), the page comes
    back with everything typed and nothing saved."""
    items = _agenda_items(agenda)
    questions = QuestionsForm(request.POST, items=[item for item in items if item.removed_at is None])
    if questions.is_valid() and (add_form is None or add_form.is_valid()):
        try:
            with transaction.atomic():
                saved = services.save_questions(agenda=agenda, questions=questions.questions(), by=request.user)
                done = change()
        except ValidationError as error:
            show_errors_on_form(add_form or questions, error)
        else:
            if saved:
                messages.success(request, f"{saved} question{'s' if saved != 1 else ''} saved.")
            if done:
                messages.success(request, done)
            return redirect(reverse("consults:agenda", kwargs={"pk": agenda.pk}) + anchor)
    return _agenda_page(request, agenda, items=items, questions=questions, add_form=add_form, status=400)


def _item_of(agenda: Agenda, item_pk: int) -> AgendaItem:
    item = get_object_or_404(agenda.items.select_related("agenda", "episode__patient"), pk=item_pk)
    item.agenda = agenda
    return item


@require_POST
def save_questions(request: HttpRequest, pk: int) -> HttpResponse:
    """The page's one Save: every row's question at once."""
    agenda = _agenda_for_editor(request, pk)
    return _change_agenda(request, agenda, lambda: None)


@require_POST
def add_item(request: HttpRequest, pk: int) -> HttpResponse:
    agenda = _agenda_for_editor(request, pk)
    episodes = Episode.objects.visible_to(request.user).open().filter(patient__care_manager=agenda.care_manager)
    form = AddToAgendaForm(request.POST, episodes=episodes)

    def add():
        episode = form.cleaned_data["episode"]
        services.add_to_agenda(agenda=agenda, episode=episode, by=request.user, note=form.cleaned_data["note"])
        return f"{episode.patient.last_name}, {episode.patient.first_name} added to the agenda."

    return _change_agenda(request, agenda, add, add_form=form)


@require_POST
def remove_item(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    agenda = _agenda_for_editor(request, pk)
    item = _item_of(agenda, item_pk)

    def remove():
        services.remove_from_agenda(item=item, by=request.user)

    return _change_agenda(request, agenda, remove)


@require_POST
def restore_item(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    agenda = _agenda_for_editor(request, pk)
    item = _item_of(agenda, item_pk)

    def put_back():
        services.add_to_agenda(agenda=agenda, episode=item.episode, by=request.user)

    return _change_agenda(request, agenda, put_back)


MOVES = {
    "up": lambda item, by: services.move_on_agenda(item=item, by=by, step=-1),
    "down": lambda item, by: services.move_on_agenda(item=item, by=by, step=1),
    "top": lambda item, by: services.move_to_top(item=item, by=by),
}


@require_POST
def move_item(request: HttpRequest, pk: int, item_pk: int, direction: str) -> HttpResponse:
    if direction not in MOVES:
        raise Http404("Move up, down or to the top.")
    agenda = _agenda_for_editor(request, pk)
    item = _item_of(agenda, item_pk)
    return _change_agenda(request, agenda, lambda: MOVES[direction](item, request.user), anchor=f"#item-{item.pk}")


@require_POST
def reorder(request: HttpRequest, pk: int) -> HttpResponse:
    """The whole new order in one request (the page's drag and drop and keyboard moves)."""
    agenda = _agenda_for_editor(request, pk)
    try:
        order = [int(value) for value in request.POST.getlist("item")]
        services.reorder_agenda(agenda=agenda, order=order, by=request.user)
    except (ValueError, ValidationError) as error:
        text = " ".join(error.messages) if isinstance(error, ValidationError) else "Send the items' ids."
        if _wants_json(request):
            return JsonResponse({"error": text}, status=409)
        messages.error(request, text)
        return _agenda_page(request, agenda, status=409)  # the page as it stands, with the reason
    if _wants_json(request):
        return JsonResponse({"order": order})
    messages.success(request, "New order saved.")
    return redirect("consults:agenda", pk=agenda.pk)


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@require_POST
def set_question(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """One row's question (kept for links and clients that post one row); the page saves all rows."""
    agenda = _agenda_for_editor(request, pk)
    item = _item_of(agenda, item_pk)
    form = QuestionForm(request.POST)
    if not form.is_valid():
        items = _agenda_items(agenda)
        typed = {QuestionsForm.key(item): request.POST.get("note", "")}
        questions = QuestionsForm(typed, items=[each for each in items if each.removed_at is None])
        questions.is_valid()
        return _agenda_page(request, agenda, items=items, questions=questions, status=400)
    services.set_item_question(item=item, by=request.user, note=form.cleaned_data["note"])
    return redirect("consults:agenda", pk=pk)


@require_POST
def hold_meeting(request: HttpRequest, pk: int) -> HttpResponse:
    """The meeting took place: its agenda is frozen as the record of it. From the agenda's editor
    the button posts the whole page, so questions typed in the rows are saved first, as with every
    other button there; a refusal draws the page again."""
    agenda = agenda_for_user(request.user, pk)
    require(can_edit_agenda(request.user, agenda) or request.user.pk == agenda.consultant_id, "close this session")

    def hold() -> str:
        services.hold_meeting(agenda=agenda, by=request.user)
        return "Meeting marked held: its agenda no longer changes."

    if can_edit_agenda(request.user, agenda) and not agenda.is_held:
        return _change_agenda(request, agenda, hold)
    try:
        messages.success(request, hold())
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _agenda_page(request, agenda, status=400)
    return redirect("consults:agenda", pk=agenda.pk)


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


def notifications(request: HttpRequest) -> HttpResponse:
    """The user's own notices, newest first; unread ones marked."""
    notices = Notification.objects.for_user(request.user).select_related("clinic")[:200]
    return render(request, "consults/notifications.html", {"notices": notices})


@require_POST
def mark_notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    notice = get_object_or_404(Notification.objects.for_user(request.user), pk=pk)
    if notice.read_at is None:
        notice.read_at = timezone.now()
        notice.save(update_fields=["read_at"])
    if request.POST.get("open") and notice.link.startswith("/"):
        return redirect(notice.link)  # only a path of this site: never another
    return redirect("consults:notifications")


@require_POST
def mark_all_notifications_read(request: HttpRequest) -> HttpResponse:
    count = Notification.objects.for_user(request.user).unread().update(read_at=timezone.now())
    messages.success(request, f"{count} notice{'s' if count != 1 else ''} marked read.")
    return redirect("consults:notifications")
