"""The consultant's review workspace, consultation notes, and recommendations to closure."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Role
from accounts.permissions import can_write_clinical, require
from carereg.forms import show_errors_on_form
from consults import notes
from consults.forms import (
    AmendmentForm,
    CommunicateForm,
    ImplementedForm,
    ImplementedMedicationForm,
    NoteForm,
    RecommendationForm,
    ResponseForm,
)
from consults.models import COMMON_DIAGNOSES, CaseReview, Recommendation
from consults.review_panel import review_panel
from consults.views import agenda_for_user
from patients.access import get_patient_for_user


def is_consultant(user) -> bool:
    return user.role == Role.PSYCHIATRIC_CONSULTANT


def _note_form(review: CaseReview, data=None) -> NoteForm:
    minutes = review.agenda_item.minutes if review.agenda_item_id else None
    initial = {
        "reviewed_on": review.reviewed_on,
        "assessment": review.assessment,
        "diagnoses": ", ".join(review.diagnoses),
        "summary": review.summary,
        "minutes": minutes,
    }
    return NoteForm(data, initial=initial)


def _note_context(
    request: HttpRequest,
    review: CaseReview,
    *,
    note_form: NoteForm | None = None,
    recommendation_form: RecommendationForm | None = None,
    amendment_form: AmendmentForm | None = None,
) -> dict:
    """The note beside the patient's panel. Forms given are the ones just sent, drawn again with
    what was typed and their errors; a note signed meanwhile still shows the text sent to it."""
    editable = note_form is not None or (not review.is_signed and request.user.pk == review.consultant_id)
    if editable and note_form is None:
        note_form = _note_form(review)
    if editable and recommendation_form is None:
        recommendation_form = RecommendationForm()
    if review.is_signed and is_consultant(request.user) and amendment_form is None:
        amendment_form = AmendmentForm()
    return {
        **review_panel(review.episode),
        "note": review,
        "note_form": note_form,
        "recommendation_form": recommendation_form,
        "draft_recommendations": list(review.recommendations.all()),
        "amendment_form": amendment_form,
        "editable": editable,
        "common_diagnoses": COMMON_DIAGNOSES.items(),
    }


def workspace(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """One patient of a session: the whole picture beside the note, next/previous through the agenda."""
    return render(request, "consults/workspace.html", _workspace_context(request, pk, item_pk))


def _workspace_context(request: HttpRequest, pk: int, item_pk: int, **forms) -> dict:
    agenda = agenda_for_user(request.user, pk)
    items = list(
        agenda.items.filter(removed_at__isnull=True).select_related("episode__patient").order_by("position", "pk")
    )
    index = next((i for i, item in enumerate(items) if item.pk == item_pk), None)
    if index is None:
        raise Http404("This patient is not on the agenda.")
    item = items[index]
    review = CaseReview.objects.filter(agenda_item=item).select_related("agenda_item", "consultant").first()
    if review is None and is_consultant(request.user) and item.episode.is_open:
        review = notes.start_note(episode=item.episode, consultant=request.user, by=request.user, agenda_item=item)
    context = _note_context(request, review, **forms) if review else review_panel(item.episode)
    context.update(
        {
            "agenda": agenda,
            "item": item,
            "position": index + 1,
            "count": len(items),
            "previous_item": items[index - 1] if index > 0 else None,
            "next_item": items[index + 1] if index + 1 < len(items) else None,
        }
    )
    return context


def _note_for_user(request: HttpRequest, pk: int) -> CaseReview:
    queryset = CaseReview.objects.visible_to(request.user).select_related(
        "episode__patient", "consultant", "agenda_item"
    )
    return get_object_or_404(queryset, pk=pk)


def _back(request: HttpRequest, review: CaseReview) -> str:
    """Back to where the note was written: the session's workspace, or the note page."""
    if review.agenda_item_id:
        item = review.agenda_item
        return reverse("consults:workspace", kwargs={"pk": item.agenda_id, "item_pk": item.pk})
    return reverse("consults:note", kwargs={"pk": review.pk})


def _note_page(request: HttpRequest, review: CaseReview, **forms) -> HttpResponse:
    """A refused post: the page the note is written on (the session's workspace, or the note
    page) again, with everything typed and each error beside its field (docs/user-guide.md#nothing-typed-is-lost)."""
    if review.agenda_item_id:
        item = review.agenda_item
        context, template = _workspace_context(request, item.agenda_id, item.pk, **forms), "consults/workspace.html"
    else:
        context, template = _note_context(request, review, **forms), "consults/note.html"
    return render(request, template, context, status=400)


def note_detail(request: HttpRequest, pk: int) -> HttpResponse:
    review = _note_for_user(request, pk)
    return render(request, "consults/note.html", _note_context(request, review))


@require_POST
def start_note(request: HttpRequest, patient_pk: int) -> HttpResponse:
    """A consultant writes a note outside a session (e.g. a curbside review)."""
    patient = get_patient_for_user(request.user, patient_pk)
    require(is_consultant(request.user), "write consultation notes")
    episode = get_object_or_404(patient.episodes.open())
    try:
        review = notes.start_note(episode=episode, consultant=request.user, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("patients:detail", pk=patient.pk)
    return redirect("consults:note", pk=review.pk)


@require_POST
def save_note(request: HttpRequest, pk: int) -> HttpResponse:
    """One form for the whole note, so that nothing typed is lost: the draft is saved first,
    then the button pressed adds or removes a recommendation, or signs. A refusal draws the
    page again with what was typed (a draft already saved stays saved)."""
    review = _note_for_user(request, pk)
    require(request.user.pk == review.consultant_id, "edit this note")
    form = _note_form(review, request.POST)
    recommendation_form = _recommendation_form(request)
    if not form.is_valid():
        return _note_page(request, review, note_form=form, recommendation_form=recommendation_form)
    try:
        notes.save_draft(review=review, by=request.user, **form.cleaned_data)
    except ValidationError as error:
        show_errors_on_form(form, error)
        return _note_page(request, review, note_form=form, recommendation_form=recommendation_form)
    try:
        message = _note_action(request, review, recommendation_form)
    except ValidationError as error:
        show_errors_on_form(recommendation_form if "add_recommendation" in request.POST else form, error)
        messages.info(request, "Draft saved.")
        return _note_page(request, review, note_form=form, recommendation_form=recommendation_form)
    messages.success(request, message)
    return redirect(_back(request, review) + ("#next" if "sign" in request.POST else "#note"))


def _recommendation_form(request: HttpRequest) -> RecommendationForm:
    """Bound (and so checked) when "Add recommendation" was pressed; otherwise what was typed in
    its fields is only shown again, without errors for a recommendation nobody asked to add."""
    if "add_recommendation" in request.POST:
        return RecommendationForm(request.POST)
    return RecommendationForm(initial={name: request.POST.get(name, "") for name in RecommendationForm.base_fields})


def _note_action(request: HttpRequest, review: CaseReview, recommendation_form: RecommendationForm) -> str:
    if "add_recommendation" in request.POST:
        if not recommendation_form.is_valid():
            raise ValidationError("The recommendation is not added: see its fields.")
        notes.add_recommendation(review=review, by=request.user, **recommendation_form.cleaned_data)
        return "Draft saved; recommendation added."
    if "remove_recommendation" in request.POST:
        recommendation = get_object_or_404(review.recommendations, pk=request.POST["remove_recommendation"])
        notes.remove_recommendation(recommendation=recommendation, by=request.user)
        return "Draft saved; recommendation removed."
    if "sign" in request.POST:
        notes.sign(review=review, by=request.user)
        return f"Note on {review.episode.patient.last_name} signed."
    return "Draft saved."


@require_POST
def amend_note(request: HttpRequest, pk: int) -> HttpResponse:
    review = _note_for_user(request, pk)
    require(is_consultant(request.user), "amend consultation notes")
    form = AmendmentForm(request.POST)
    if form.is_valid():
        try:
            notes.amend(review=review, by=request.user, text=form.cleaned_data["text"])
        except ValidationError as error:
            show_errors_on_form(form, error)
        else:
            messages.success(request, "Amendment added beside the signed note.")
            return redirect("consults:note", pk=review.pk)
    return _note_page(request, review, amendment_form=form)


def print_note(request: HttpRequest, pk: int) -> HttpResponse:
    """A one-page consultation summary for the EHR."""
    review = _note_for_user(request, pk)
    if not review.is_signed:
        raise Http404("Only a signed note is printed.")
    return render(
        request,
        "consults/note_print.html",
        {**review_panel(review.episode), "note": review, "note_recommendations": list(review.recommendations.all())},
    )


# --- recommendations to closure ---------------------------------------------------------


def _recommendations_for(user):
    recommendations = Recommendation.objects.visible_to(user).filter(review__signed_at__isnull=False)
    if user.role == Role.MEDICAL_PROVIDER:
        return recommendations.filter(episode__patient__pcp=user)
    if user.role == Role.CARE_MANAGER:
        return recommendations.filter(episode__patient__care_manager=user)
    if user.role == Role.PSYCHIATRIC_CONSULTANT:
        return recommendations.filter(review__consultant=user)
    return recommendations


def recommendations(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "open")
    listed = _recommendations_for(request.user).select_related(
        "episode__patient", "review__consultant", "communicated_by", "responded_by", "implemented_by"
    )
    if status == "open":
        listed = listed.open()
    elif status in Recommendation.Status.values:
        listed = listed.filter(status=status)
    return render(
        request,
        "consults/recommendations.html",
        {
            # Open ones oldest first (the most overdue on top); closed ones newest first.
            "recommendations": listed.order_by(
                *(("recommended_on", "pk") if status == "open" else ("-recommended_on", "-pk"))
            )[:200],
            "status": status,
            "statuses": Recommendation.Status.choices,
            "can_carry": can_write_clinical(request.user),
            "can_respond": can_write_clinical(request.user) or request.user.role == Role.MEDICAL_PROVIDER,
            "communicate_form": CommunicateForm(
                initial={"when": timezone.localtime().replace(second=0, microsecond=0)}
            ),
            "response_form": ResponseForm(),
            "implemented_form": ImplementedForm(initial={"on": timezone.localdate()}),
        },
    )


def _recommendation_for_user(request: HttpRequest, pk: int) -> Recommendation:
    return get_object_or_404(_recommendations_for(request.user), pk=pk)


def _act(request: HttpRequest, recommendation: Recommendation, form, action, what: str) -> HttpResponse:
    """A step of a recommendation on its own page. The lists post their one-line forms here; a
    refused one comes back on this page with what was typed and each error beside its field."""
    if request.method == "POST" and form.is_valid():
        try:
            action(recommendation=recommendation, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            show_errors_on_form(form, error)
        else:
            messages.success(request, f"{recommendation}: {what} recorded.")
            return redirect(_next_page(request))
    context = {"recommendation": recommendation, "form": form, "what": what, "next": _next_page(request)}
    return render(request, "consults/recommendation_step.html", context, status=400 if form.is_bound else 200)


def _next_page(request: HttpRequest) -> str:
    back = request.POST.get("next") or request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = reverse("consults:recommendations")  # never off-site: an open redirect is a phishing aid
    return back


def _step_of(request: HttpRequest, pk: int, allowed: bool, what: str) -> Recommendation:
    recommendation = _recommendation_for_user(request, pk)
    require(allowed, what)
    return recommendation


@require_http_methods(["GET", "POST"])
def communicate(request: HttpRequest, pk: int) -> HttpResponse:
    recommendation = _step_of(request, pk, can_write_clinical(request.user), "communicate recommendations")
    now = timezone.localtime().replace(second=0, microsecond=0)
    form = CommunicateForm(request.POST or None, initial={"when": now})
    return _act(request, recommendation, form, notes.communicate, "communication to the PCP")


@require_http_methods(["GET", "POST"])
def respond(request: HttpRequest, pk: int) -> HttpResponse:
    allowed = can_write_clinical(request.user) or request.user.role == Role.MEDICAL_PROVIDER
    recommendation = _step_of(request, pk, allowed, "record the PCP's response")
    return _act(request, recommendation, ResponseForm(request.POST or None), notes.respond, "PCP response")


@require_http_methods(["GET", "POST"])
def implemented(request: HttpRequest, pk: int) -> HttpResponse:
    """A medication recommendation's step offers the medication list's change with it, filled in."""
    recommendation = _step_of(request, pk, can_write_clinical(request.user), "mark recommendations implemented")
    initial = {"on": timezone.localdate()}
    if recommendation.kind in Recommendation.MEDICATION_KINDS:
        form = ImplementedMedicationForm(request.POST or None, initial=initial, recommendation=recommendation)
        return _act(request, recommendation, form, notes.mark_implemented_with_medication, "implementation")
    form = ImplementedForm(request.POST or None, initial=initial)
    return _act(request, recommendation, form, notes.mark_implemented, "implementation")
