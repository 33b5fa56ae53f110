from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from accounts.permissions import can_resolve_safety, can_write_clinical, require
from carereg.forms import show_errors_on_form
from patients.access import get_patient_for_user
from patients.models import Episode
from registry import services
from registry.access import get_contact_for_user, get_flag_for_user, get_measurement_for_user
from registry.caseload import CaseloadFilter, caseload_rows, caseload_statistics, scope_to_team
from registry.dashboard_forms import CaseloadForm, SearchForm
from registry.forms import ContactForm, EnteredInErrorForm, ItemAnswersForm, MeasurementForm, SafetyAssessmentForm
from registry.models import Flag
from registry.scoring import GAD7, INSTRUMENTS, PHQ9

SEARCH_SESSION_KEY = "caseload_search"


def dashboard(request: HttpRequest) -> HttpResponse:
    # Names and MRNs typed into search are PHI: they travel in a POST body and live in the
    # session, never in the URL (which web servers and browsers log).
    if request.method == "POST":
        search = SearchForm(request.POST)
        request.session[SEARCH_SESSION_KEY] = search.cleaned_data["q"] if search.is_valid() else ""
        return redirect(f"{reverse('registry:dashboard')}?{request.GET.urlencode()}")
    search_text = request.session.get(SEARCH_SESSION_KEY, "")
    form = CaseloadForm(request.GET, user=request.user)
    choices = form.cleaned()
    today = timezone.localdate()
    caseload = scope_to_team(Episode.objects.visible_to(request.user).open(), request.user, choices["team"])
    rows = caseload_rows(
        CaseloadFilter(status=choices["status"], flag=choices["flag"], search=search_text).apply(caseload),
        today,
        choices["sort"],
    )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "registry/dashboard.html",
        {
            "page": page,
            "form": form,
            "search_form": SearchForm(initial={"q": search_text}),
            "search_text": search_text,
            "stats": caseload_statistics(caseload, today),
            "sort": choices["sort"],
            "today": today,
            "can_write": can_write_clinical(request.user),
        },
    )


def _open_episode(patient) -> Episode:
    episode = patient.episodes.open().first()
    if episode is None:
        raise Http404("This patient has no open episode of care.")
    return episode


def record_contact(request: HttpRequest, patient_pk: int) -> HttpResponse:
    patient = get_patient_for_user(request.user, patient_pk)
    require(can_write_clinical(request.user), "record contacts")
    episode = _open_episode(patient)
    data = request.POST or None
    form = ContactForm(data)
    score_forms = [
        ItemAnswersForm(data, instrument=PHQ9, required=False),
        ItemAnswersForm(data, instrument=GAD7, required=False),
    ]
    if request.method == "POST" and all([form.is_valid()] + [f.is_valid() for f in score_forms]):
        scores = [answers for answers in (f.answers() for f in score_forms) if answers]
        try:
            services.record_contact(episode=episode, by=request.user, scores=scores, **form.cleaned_data)
        except ValidationError as error:
            show_errors_on_form(form, error)
        else:
            messages.success(request, "Contact saved" + (" with scores." if scores else "."))
            return redirect("patients:detail", pk=patient.pk)
    return render(
        request,
        "registry/record_contact.html",
        {"patient": patient, "episode": episode, "form": form, "score_forms": score_forms},
    )


def record_measurement(request: HttpRequest, patient_pk: int, instrument: str) -> HttpResponse:
    patient = get_patient_for_user(request.user, patient_pk)
    require(can_write_clinical(request.user), "record scores")
    if instrument not in INSTRUMENTS:
        raise Http404("Unknown instrument.")
    episode = _open_episode(patient)
    form = MeasurementForm(request.POST or None, instrument=INSTRUMENTS[instrument])
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
    flag = get_flag_for_user(request.user, pk)
    require(can_resolve_safety(request.user), "resolve safety flags")
    if flag.kind != Flag.Kind.SAFETY or not flag.is_open:
        raise Http404("Only an open safety flag is resolved here.")
    patient = flag.episode.patient
    form = SafetyAssessmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.resolve_safety_flag(flag=flag, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            show_errors_on_form(form, error)
        else:
            messages.success(request, "Safety assessment recorded; the safety flag is resolved.")
            return redirect("patients:detail", pk=patient.pk)
    return render(request, "registry/resolve_flag.html", {"flag": flag, "patient": patient, "form": form})


def _mark_in_error(request: HttpRequest, item, service, what: str) -> HttpResponse:
    require(can_write_clinical(request.user), f"mark {what}s entered in error")
    patient = item.episode.patient
    form = EnteredInErrorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                service(by=request.user, reason=form.cleaned_data["reason"], **{what: item})
        except ValidationError as error:
            show_errors_on_form(form, error)
        else:
            messages.success(request, f"The {what} is marked entered in error; its history is kept.")
            return redirect("patients:detail", pk=patient.pk)
    return render(
        request, "registry/entered_in_error.html", {"item": item, "patient": patient, "form": form, "what": what}
    )


def contact_entered_in_error(request: HttpRequest, pk: int) -> HttpResponse:
    return _mark_in_error(
        request, get_contact_for_user(request.user, pk), services.mark_contact_entered_in_error, "contact"
    )


def measurement_entered_in_error(request: HttpRequest, pk: int) -> HttpResponse:
    return _mark_in_error(
        request, get_measurement_for_user(request.user, pk), services.mark_measurement_entered_in_error, "measurement"
    )
