"""The FHIR endpoints: each finds rows within the token's clinic and hands them to resources.py."""

import json

from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.utils import timezone

from fhirapi import codes, parse, resources
from fhirapi.auth import api_view
from fhirapi.responses import FhirError, Issue, fhir_response, not_found
from fhirapi.submissions import patient_of_client, record_questionnaire_response
from patients.models import Patient
from registry.models import Measurement

IGNORED_PARAMETERS = {"_format"}


@api_view("CapabilityStatement", public=True)
def metadata(request: HttpRequest) -> HttpResponse:
    return fhir_response(resources.capability_statement(date=timezone.localdate().isoformat()))


@api_view("Patient")
def patient_read(request: HttpRequest, pk: int) -> HttpResponse:
    patient = patient_of_client(request.api_client, pk)
    return fhir_response(resources.patient(patient, request.api_client.clinic))


@api_view("Patient")
def patient_search(request: HttpRequest) -> HttpResponse:
    return _patient_search(request, request.GET)


@api_view("Patient", methods=("POST",))
def patient_search_post(request: HttpRequest) -> HttpResponse:
    """POST _search: the MRN travels in the body, out of URLs and web server logs."""
    return _patient_search(request, request.POST)


def _patient_search(request: HttpRequest, query: QueryDict) -> HttpResponse:
    clinic = request.api_client.clinic
    identifier = _parameters(query, allowed={"identifier"}, required={"identifier"})["identifier"]
    system, bar, value = identifier.rpartition("|")
    if bar and system != codes.mrn_system(clinic.code):
        patients = []  # an MRN of another system (or of none, "|value") is not ours
    else:
        patients = Patient.objects.filter(clinic=clinic, mrn=value)
    return fhir_response(resources.bundle(_base_url(request), [resources.patient(p, clinic) for p in patients]))


@api_view("Patient")
def patient_everything(request: HttpRequest, pk: int) -> HttpResponse:
    """The patient, their PHQ-9 and GAD-7 totals (Observations) and answers (QuestionnaireResponses)."""
    patient = patient_of_client(request.api_client, pk)
    measurements = list(_measurements(request).filter(episode__patient=patient).select_related("fhir_identifier"))
    found = [resources.patient(patient, request.api_client.clinic)]
    found += [resources.observation(m, patient.pk) for m in measurements]
    found += [resources.questionnaire_response(m, patient.pk) for m in measurements if not m.total_only]
    return fhir_response(resources.bundle(_base_url(request), found))


@api_view("Observation")
def observation_search(request: HttpRequest) -> HttpResponse:
    query = _parameters(request.GET, allowed={"patient", "subject", "code"})
    reference = query.get("patient") or query.get("subject")
    if not reference:
        raise FhirError(400, [Issue("Search Observations of one patient: patient=<id> is required.", "required")])
    patient = patient_of_client(request.api_client, _patient_id(reference))
    measurements = _measurements(request).filter(episode__patient=patient)
    if "code" in query:
        measurements = measurements.filter(instrument__in=_instruments_for_codes(query["code"]))
    found = [resources.observation(m, patient.pk) for m in measurements]
    response = fhir_response(resources.bundle(_base_url(request), found))
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


@api_view("QuestionnaireResponse", methods=("POST",), writes=True)
def questionnaire_response_create(request: HttpRequest) -> HttpResponse:
    """201 with the new score; with If-None-Exist (conditional create), 200 with the one it finds."""
    if_none_exist = parse.parse_if_none_exist(request.headers.get("If-None-Exist"))
    parsed = parse.parse_questionnaire_response(_json_body(request))
    measurement, created = record_questionnaire_response(
        client=request.api_client, parsed=parsed, if_none_exist=if_none_exist
    )
    resource = resources.questionnaire_response(measurement, measurement.episode.patient_id)
    location = f"{_base_url(request)}QuestionnaireResponse/{measurement.pk}"
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


def _parameters(query: QueryDict, *, allowed: set[str], required: set[str] = frozenset()) -> dict[str, str]:
    """One value per parameter; unknown parameters are refused (by name, never echoing values)
    rather than ignored, so that a client never mistakes an unfiltered result for a filtered one."""
    issues = [
        Issue(f"Search parameter {name!r} is not supported here (use {', '.join(sorted(allowed))}).", "not-supported")
        for name in query
        if name not in allowed | IGNORED_PARAMETERS
    ]
    issues += [Issue(f"Give {name!r} once.", "invalid") for name in allowed if len(query.getlist(name)) > 1]
    issues += [Issue(f"Search parameter {name!r} is required.", "required") for name in required if not query.get(name)]
    if issues:
        raise FhirError(400, issues)
    return {name: query[name] for name in allowed if query.get(name)}


def _patient_id(reference: str) -> int | None:
    value = reference.removeprefix("Patient/")
    return int(value) if value.isdigit() else None


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
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise FhirError(400, [Issue("The body is not valid JSON.", "structure")]) from None


def _base_url(request: HttpRequest) -> str:
    """https://host/fhir/: the start of every fullUrl and Location."""
    return request.build_absolute_uri(reverse("fhirapi:metadata")).removesuffix("metadata")
