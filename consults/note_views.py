"""The consultant's review workspace, consultation notes, and recommendations to closure."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import can_write_clinical, require
from carereg.forms import show_errors_on_form
from consults import notes
from consults.forms import (
    AmendmentForm,
    CommunicateForm,
    ImplementedForm,
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


def _note_context(request: HttpRequest, review: CaseReview) -> dict:
    editable = not review.is_signed and request.user.pk == review.consultant_id
    return {
        **review_panel(review.episode),
        "note": review,
        "note_form": _note_form(review) if editable else None,
        "recommendation_form": RecommendationForm() if editable else None,
        "draft_recommendations": list(review.recommendations.all()),
        "amendment_form": AmendmentForm() if review.is_signed and is_consultant(request.user) else None,
        "editable": editable,
        "common_diagnoses": COMMON_DIAGNOSES.items(),
    }


def workspace(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """One patient of a session: the whole picture beside the note, next/previous through the agenda."""
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
    context = _note_context(request, review) if review else review_panel(item.episode)
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
    return render(request, "consults/workspace.html", context)


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
    then the button pressed adds or removes a recommendation, or signs."""
    review = _note_for_user(request, pk)
    require(request.user.pk == review.consultant_id, "edit this note")
    form = _note_form(review, request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect(_back(request, review) + "#note")
    try:
        notes.save_draft(review=review, by=request.user, **form.cleaned_data)
        message = _note_action(request, review)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(_back(request, review) + "#note")
    messages.success(request, message)
    return redirect(_back(request, review) + ("#next" if "sign" in request.POST else "#note"))


def _note_action(request: HttpRequest, review: CaseReview) -> str:
    if "add_recommendation" in request.POST:
        recommendation_form = RecommendationForm(request.POST)
        if not recommendation_form.is_valid():
            raise ValidationError("Choose the kind of recommendation.")
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
            messages.success(request, "Amendment added beside the signed note.")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
    return redirect("consults:note", pk=review.pk)


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


def _act(request: HttpRequest, pk: int, form_class, action, allowed: bool, what: str) -> HttpResponse:
    recommendation = _recommendation_for_user(request, pk)
    require(allowed, what)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            action(recommendation=recommendation, by=request.user, **form.cleaned_data)
            messages.success(request, f"{recommendation}: {what} recorded.")
        except ValidationError as error:
            show_errors_on_form(form, error)
            messages.error(request, " ".join(error.messages))
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = reverse("consults:recommendations")  # never off-site: an open redirect is a phishing aid
    return redirect(back)


@require_POST
def communicate(request: HttpRequest, pk: int) -> HttpResponse:
    allowed = can_write_clinical(request.user)
    return _act(request, pk, CommunicateForm, notes.communicate, allowed, "communication to the PCP")


@require_POST
def respond(request: HttpRequest, pk: int) -> HttpResponse:
    allowed = can_write_clinical(request.user) or request.user.role == Role.MEDICAL_PROVIDER
    return _act(request, pk, ResponseForm, notes.respond, allowed, "PCP response")


@require_POST
def implemented(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request, pk, ImplementedForm, notes.mark_implemented, can_write_clinical(request.user), "implementation"
    )
