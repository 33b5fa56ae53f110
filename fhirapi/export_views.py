"""Bulk Data export endpoints (FHIR Bulk Data Access v2; docs/fhir.md#bulk-export): the kick-off,
the status URL (progress, manifest, DELETE to cancel) and the files.

An export, its status and its files belong to the client that asked for it: any other client,
of this clinic or another, gets the 404 of a missing export.
"""

import datetime

from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.utils.http import http_date

from fhirapi.auth import api_view, insufficient_scope
from fhirapi.bulk import EXPORT_TYPES, file_path, manifest
from fhirapi.exports import cancel_export, start_export
from fhirapi.models import BulkExport
from fhirapi.responses import FhirError, Issue, fhir_response, not_found, operation_outcome
from fhirapi.search import FORMAT_PARAMETERS, prefers
from fhirapi.views import base_url

KICK_OFF_PARAMETERS = {"_type", "_since", "_outputFormat"}
OUTPUT_FORMATS = {"application/fhir+ndjson", "application/ndjson", "ndjson"}
ACCEPTED = ("application/fhir+json", "application/json", "*/*")
POLL_SECONDS = 5


@api_view("Patient", needs=None)
def patient_export(request: HttpRequest) -> HttpResponse:
    """Every patient of the token's clinic, and their scores."""
    return _kick_off(request)


@api_view("Group", needs=None)
def group_export(request: HttpRequest, code: str) -> HttpResponse:
    """A clinic is a Group whose id is its code; the token's own is the only one it can see."""
    if code != request.api_client.clinic.code:
        raise not_found(f"Group/{code}")
    return _kick_off(request)


def _kick_off(request: HttpRequest) -> HttpResponse:
    resource_types, since = _read_kick_off(request)
    export = start_export(
        client=request.api_client,
        request_url=request.build_absolute_uri(),
        resource_types=resource_types,
        since=since,
    )
    status_url = f"{base_url(request)}bulk-export/{export.key}"
    outcome = operation_outcome(
        [Issue("The export has started: poll the Content-Location URL for its progress.", "informational")],
        severity="information",
    )
    response = fhir_response(outcome, status=202, headers={"Content-Location": status_url})
    response.audit_id = str(export.key)
    return response


def _read_kick_off(request: HttpRequest) -> tuple[list[str], datetime.datetime | None]:
    """The types to export and _since, from a kick-off request; 400 for what cannot be done,
    except what Prefer: handling=lenient asks us to ignore (unknown parameters and types)."""
    if not prefers(request, "respond-async"):
        raise FhirError(400, [Issue("An export runs asynchronously: send Prefer: respond-async.", "invalid")])
    accept = request.headers.get("Accept", "")
    if accept and not any(kind in accept for kind in ACCEPTED):
        raise FhirError(400, [Issue("Accept application/fhir+json for this request's answers.", "not-supported")])
    lenient = prefers(request, "handling=lenient")
    issues = []
    if not lenient:
        issues += [
            Issue(f"Parameter {name!r} is not supported by this export (supported: _type, _since).", "not-supported")
            for name in request.GET
            if name not in KICK_OFF_PARAMETERS | FORMAT_PARAMETERS
        ]
    output_format = request.GET.get("_outputFormat")
    if output_format and output_format not in OUTPUT_FORMATS:
        issues.append(Issue("The only _outputFormat is application/fhir+ndjson.", "not-supported"))
    asked = [t.strip() for t in ",".join(request.GET.getlist("_type")).split(",") if t.strip()]
    unsupported = [t for t in asked if t not in EXPORT_TYPES]
    if unsupported and not lenient:
        issues.append(
            Issue(f"This server exports {', '.join(EXPORT_TYPES)}; not {', '.join(unsupported)}.", "not-supported")
        )
    since = _since(request.GET.get("_since"), issues)
    if issues:
        raise FhirError(400, issues)
    return _permitted_types(request, asked), since


def _since(value: str | None, issues: list[Issue]) -> datetime.datetime | None:
    if not value:
        return None
    try:
        since = datetime.datetime.fromisoformat(value)
    except ValueError:
        since = None
    if since is None or since.tzinfo is None:
        issues.append(Issue("_since is an instant with a time zone, e.g. 2026-01-31T00:00:00Z.", "invalid"))
        return None
    return since


def _permitted_types(request: HttpRequest, asked: list[str]) -> list[str]:
    grant = request.api_grant
    if not asked:  # everything the token may read
        types = grant.readable(EXPORT_TYPES)
        if not types:
            raise insufficient_scope("Patient", "r")
        return types
    types = [t for t in EXPORT_TYPES if t in asked]
    if not types:
        raise FhirError(400, [Issue(f"Ask for one of {', '.join(EXPORT_TYPES)} in _type.", "not-supported")])
    for resource_type in types:
        if not grant.allows(resource_type, "r"):
            raise insufficient_scope(resource_type, "r")
    return types


def _own_export(request: HttpRequest, key) -> BulkExport:
    export = BulkExport.objects.filter(key=key, client=request.api_client).first()
    if export is None or export.status in (BulkExport.Status.CANCELLED, BulkExport.Status.EXPIRED):
        raise not_found("The export")
    return export


@api_view("bulk-export", methods=("GET", "DELETE"), needs=None)
def export_status(request: HttpRequest, key) -> HttpResponse:
    export = _own_export(request, key)
    if request.method == "DELETE":
        cancel_export(export=export)
        outcome = operation_outcome([Issue("The export was cancelled.", "informational")], severity="information")
        return fhir_response(outcome, status=202)
    if export.is_active:
        return HttpResponse(
            status=202, headers={"X-Progress": export.progress or "Queued", "Retry-After": POLL_SECONDS}
        )
    if export.status == BulkExport.Status.FAILED:
        raise FhirError(500, [Issue("The export failed and its files were deleted: start it again.", "exception")])
    return JsonResponse(
        manifest(export, base_url(request)), headers={"Expires": http_date(export.expires_at.timestamp())}
    )


@api_view("bulk-export", needs=None)
def export_file(request: HttpRequest, key, name: str) -> HttpResponse:
    """A file of a completed export, streamed from disk, with the same authorization as the
    kick-off: the token must be able to read the file's resource type."""
    export = _own_export(request, key)
    found = export.files.filter(name=name).first() if export.status == BulkExport.Status.COMPLETED else None
    if found is None:
        raise not_found("The file")
    if not request.api_grant.allows(found.resource_type, "r"):
        raise insufficient_scope(found.resource_type, "r")
    return FileResponse(open(file_path(export, found.name), "rb"), content_type="application/fhir+ndjson")
