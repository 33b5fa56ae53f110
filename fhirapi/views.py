"""The FHIR endpoints: each finds rows within the token's clinic and hands them to resources.py."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from fhirapi import codes, parse, resources, search_specs
from fhirapi.auth import api_view
from fhirapi.limits import parse_json
from fhirapi.responses import FhirError, Issue, fhir_response, not_found
from fhirapi.search import Query, applied_filters, date_filter, page, read_query
from fhirapi.submissions import patient_of_client, record_questionnaire_response
from patients.models import Patient
from registry.models import Measurement

OBSERVATION_FILTERS = ["patient", "subject", "code", "category", "date"]
QUESTIONNAIRE_RESPONSE_FILTERS = ["patient", "subject", "questionnaire", "authored"]
ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


@api_view("CapabilityStatement", public=True, needs=None)
def metadata(request: HttpRequest) -> HttpResponse:
    return fhir_response(
        resources.capability_statement(date=timezone.localdate().isoformat(), base_url=base_url(request))
    )


@api_view("", methods=ALL_METHODS, public=True, needs=None)
def unknown_endpoint(request: HttpRequest, path: str) -> HttpResponse:
    """Any other URL under the base: an OperationOutcome, logged, rather than an HTML page."""
    raise FhirError(404, [Issue("There is no such endpoint: see metadata for what this server offers.", "not-found")])


@api_view("Patient")
def patient_read(request: HttpRequest, pk: int) -> HttpResponse:
    patient = patient_of_client(request.api_client, pk)
    return fhir_response(resources.patient(patient, request.api_client.clinic))


@api_view("Patient", needs="s")
def patient_search(request: HttpRequest) -> HttpResponse:
    return _patient_search(request, request.GET, by_post=False)


@api_view("Patient", methods=("POST",), needs="s")
def patient_search_post(request: HttpRequest) -> HttpResponse:
    """POST _search: the MRN travels in the body, out of URLs and web server logs (and out of
    the Bundle's links, so no page link carries it either: the MRN matches one patient at most)."""
    query = request.GET.copy()
    query.update(request.POST)
    return _patient_search(request, query, by_post=True)


def _patient_search(request: HttpRequest, query: QueryDict, *, by_post: bool) -> HttpResponse:
    clinic = request.api_client.clinic
    search = read_query(request, query, search_specs.PATIENT)
    identifier = _required(search, "identifier", "Search patients by identifier=<MRN>.")
    system, bar, value = identifier.rpartition("|")
    if bar and system != codes.mrn_system(clinic.code):
        rows = Patient.objects.none()  # an MRN of another system (or of none, "|value") is not ours
    else:
        rows = Patient.objects.filter(clinic=clinic, mrn=value)
    url = f"{base_url(request)}Patient" + ("/_search" if by_post else "")
    found = page(rows, search, url=url, filters=[] if by_post else [("identifier", identifier)], pageable=not by_post)
    return _bundle(request, found, [resources.patient(p, clinic) for p in found.rows])


@api_view("Patient")
def patient_everything(request: HttpRequest, pk: int) -> HttpResponse:
    """The patient, their PHQ-9 and GAD-7 totals (Observations) and answers (QuestionnaireResponses)."""
    patient = patient_of_client(request.api_client, pk)
    readable = set(request.api_grant.readable(["Observation", "QuestionnaireResponse"]))
    measurements = (
        list(_measurements(request).filter(episode__patient=patient).select_related("fhir_identifier"))
        if readable
        else []
    )
    found = [resources.patient(patient, request.api_client.clinic)]
    if "Observation" in readable:
        found += [resources.observation(m, patient.pk) for m in measurements]
    if "QuestionnaireResponse" in readable:
        found += [resources.questionnaire_response(m, patient.pk) for m in measurements if not m.total_only]
    return fhir_response(resources.bundle(base_url(request), found))


@api_view("Observation", needs="s")
def observation_search(request: HttpRequest) -> HttpResponse:
    search = read_query(request, request.GET, search_specs.OBSERVATION)
    patient, rows = _searched_patient(request, search)
    if search.get("code"):
        rows = rows.filter(instrument__in=_instruments_for_codes(search.get("code")))
    if search.get("category") and not _is_survey(search.get("category")):
        rows = rows.none()  # every score is a survey: any other category matches none
    rows = _on_days(rows, search, "date")
    found = page(
        rows, search, url=f"{base_url(request)}Observation", filters=applied_filters(search, OBSERVATION_FILTERS)
    )
    response = _bundle(request, found, [resources.observation(m, patient.pk) for m in found.rows])
    response.audit_id = f"Patient/{patient.pk}"
    return response


@api_view("QuestionnaireResponse", needs="s")
def questionnaire_response_search(request: HttpRequest) -> HttpResponse:
    search = read_query(request, request.GET, search_specs.QUESTIONNAIRE_RESPONSE)
    patient, rows = _searched_patient(request, search)
    rows = rows.filter(total_only=False).select_related("fhir_identifier")
    if search.get("questionnaire"):
        wanted = [codes.QUESTIONNAIRES.get(url.strip()) for url in search.get("questionnaire").split(",")]
        rows = rows.filter(instrument__in=[i.code for i in wanted if i is not None])
    rows = _on_days(rows, search, "authored")
    found = page(
        rows,
        search,
        url=f"{base_url(request)}QuestionnaireResponse",
        filters=applied_filters(search, QUESTIONNAIRE_RESPONSE_FILTERS),
    )
    response = _bundle(request, found, [resources.questionnaire_response(m, patient.pk) for m in found.rows])
    response.audit_id = f"Patient/{patient.pk}"
    return response


@api_view("Observation")
def observation_read(request: HttpRequest, pk: int) -> HttpResponse:
    measurement = _measurements(request).filter(pk=pk).select_related("episode").first()
    if measurement is None:
        raise not_found(f"Observation/{pk}")
    return fhir_response(resources.observation(measurement, measurement.episode.patient_id))


@api_view("QuestionnaireResponse")
def questionnaire_response_read(request: HttpRequest, pk: int) -> HttpResponse:
    measurement = (
        _measurements(request).filter(pk=pk, total_only=False).select_related("episode", "fhir_identifier").first()
    )
    if measurement is None:
        raise not_found(f"QuestionnaireResponse/{pk}")
    return fhir_response(resources.questionnaire_response(measurement, measurement.episode.patient_id))


@login_not_required
@csrf_exempt
def questionnaire_responses(request: HttpRequest) -> HttpResponse:
    """GET searches, POST creates: one URL, two interactions with their own permissions."""
    if request.method == "POST":
        return questionnaire_response_create(request)
    return questionnaire_response_search(request)


@api_view("QuestionnaireResponse", methods=("POST",), needs="c")
def questionnaire_response_create(request: HttpRequest) -> HttpResponse:
    """201 with the new score; with If-None-Exist (conditional create), 200 with the one it finds."""
    if_none_exist = parse.parse_if_none_exist(request.headers.get("If-None-Exist"))
    parsed = parse.parse_questionnaire_response(_json_body(request))
    measurement, created = record_questionnaire_response(
        client=request.api_client, parsed=parsed, if_none_exist=if_none_exist
    )
    resource = resources.questionnaire_response(measurement, measurement.episode.patient_id)
    location = f"{base_url(request)}QuestionnaireResponse/{measurement.pk}"
    response = fhir_response(resource, status=201 if created else 200, headers={"Location": location})
    response.audit_id = measurement.pk
    return response


# --- helpers -------------------------------------------------------------------------------


def _measurements(request: HttpRequest):
    """The clinic's PHQ-9 and GAD-7 scores that count: one marked entered in error is left out
    (and so is a 404 when asked for by id), as it is everywhere else in the registry."""
    return Measurement.objects.valid().filter(
        episode__patient__clinic=request.api_client.clinic, instrument__in=codes.FHIR_INSTRUMENTS
    )


def _required(search: Query, name: str, message: str) -> str:
    value = search.get(name)
    if not value:
        raise FhirError(400, [Issue(f"Search parameter {name!r} is required. {message}", "required")])
    return value


def _searched_patient(request: HttpRequest, search: Query):
    """The patient a search is about (patient= or subject=, required), and its scores; another
    clinic's patient is a 404, exactly like a missing one."""
    references = search.values.get("patient", []) + search.values.get("subject", [])
    if not references:
        raise FhirError(400, [Issue("Search parameter 'patient' is required: patient=<id>.", "required")])
    patients = {_patient_id(reference) for reference in references}
    patient = patient_of_client(request.api_client, next(iter(patients)))
    for other in patients - {patient.pk}:
        patient_of_client(request.api_client, other)
    rows = _measurements(request).filter(episode__patient=patient)
    return patient, rows if len(patients) == 1 else rows.none()  # two patients at once: none match both


def _on_days(rows, search: Query, name: str):
    zone = timezone.get_current_timezone()
    for value in search.values.get(name, []):
        rows = rows.filter(date_filter("taken_on", value, zone))
    return rows


def _is_survey(value: str) -> bool:
    """category=survey, or with its system; comma-separated for either."""
    for token in value.split(","):
        system, bar, code = token.rpartition("|")
        if code == "survey" and (not bar or system in ("", codes.OBSERVATION_CATEGORY)):
            return True
    return False


def _bundle(request: HttpRequest, found, entries: list[dict]) -> HttpResponse:
    return fhir_response(resources.bundle(base_url(request), entries, total=found.total, links=found.links))


def _patient_id(reference: str) -> int | None:
    match = parse.PATIENT_REFERENCE.search(reference)
    if match:
        return int(match.group(1))
    return int(reference) if reference.isdigit() else None


def _instruments_for_codes(value: str) -> list[str]:
    """code=http://loinc.org|44261-6 or 44261-6, comma-separated for either."""
    found = []
    for token in value.split(","):
        system, bar, code = token.rpartition("|")
        if (not bar or system == codes.LOINC) and code in codes.TOTAL_CODES:
            found.append(codes.TOTAL_CODES[code].code)
    return found


def _json_body(request: HttpRequest):
    if "json" not in request.content_type:
        raise FhirError(415, [Issue("Send application/fhir+json.", "not-supported")])
    return parse_json(request.body)  # the body was read within the size cap by api_view


def base_url(request: HttpRequest) -> str:
    """https://host/fhir/: the start of every fullUrl and Location."""
    return request.build_absolute_uri(reverse("fhirapi:metadata")).removesuffix("metadata")
