"""Token authentication, scope, the clinic's time zone and the call log, around every API view.

API calls carry `Authorization: Bearer <token>`, not a session: the views are exempt from
the login redirect and from CSRF (no cookie is ever read, so there is nothing to forge).
"""

import functools
import zoneinfo

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from carereg.proxy import client_address
from fhirapi.clients import hash_token
from fhirapi.models import ApiCallLog, ApiClient
from fhirapi.responses import FhirError, Issue, error_response, not_found

REALM = 'Bearer realm="CareReg FHIR"'


def authenticate(request: HttpRequest) -> ApiClient:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise FhirError(
            401, [Issue("Send an API token: Authorization: Bearer <token>.", "login")], {"WWW-Authenticate": REALM}
        )
    client = (
        ApiClient.objects.select_related("clinic", "service_user").filter(token_hash=hash_token(token.strip())).first()
    )
    invalid = {"WWW-Authenticate": f'{REALM}, error="invalid_token"'}
    if client is None or not client.service_user.is_active:
        raise FhirError(401, [Issue("The API token is not valid.", "login")], invalid)
    if client.is_revoked:
        raise FhirError(401, [Issue("The API token was revoked.", "login")], invalid)
    client.last_used_at = timezone.now()
    ApiClient.objects.filter(pk=client.pk).update(last_used_at=client.last_used_at)
    return client


def api_view(resource_type: str, *, methods: tuple[str, ...] = ("GET",), writes: bool = False, public: bool = False):
    """Wrap a view of the API. `writes`: needs a write-scope token; `public`: no token needed."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request: HttpRequest, **kwargs) -> HttpResponse:
            client = None
            try:
                client = None if public else authenticate(request)
                if request.method not in methods:
                    allowed = ", ".join(methods)
                    raise FhirError(405, [Issue(f"Use {allowed} here.", "not-supported")], {"Allow": allowed})
                if writes and not client.can_write:
                    raise FhirError(403, [Issue("This API token may only read.", "forbidden")])
                response = _call(view, request, client, kwargs)
            except FhirError as error:
                response = error_response(error)
            _log(request, client, resource_type, kwargs, response)
            return response

        return login_not_required(csrf_exempt(wrapped))

    return decorator


def _call(view, request: HttpRequest, client: ApiClient | None, kwargs: dict) -> HttpResponse:
    if client is None:
        return view(request, **kwargs)
    request.api_client, request.user = client, client.service_user
    # Dates are calendar days in the clinic's time zone (clinical-rules 5), as on its pages.
    with timezone.override(zoneinfo.ZoneInfo(client.clinic.timezone)):
        try:
            return view(request, **kwargs)
        except Http404:
            raise not_found("The resource") from None


def _log(request: HttpRequest, client: ApiClient | None, resource_type: str, kwargs: dict, response) -> None:
    names = sorted(
        set(request.GET) | (set(request.POST) if request.method == "POST" and not _is_json(request) else set())
    )
    ApiCallLog.objects.create(
        client=client,
        method=request.method[:8],
        path=request.path[:200],  # only what our URL patterns matched: resource types and numeric ids
        parameters=",".join(names)[:200],
        resource_type=resource_type,
        resource_id=str(kwargs.get("pk") or getattr(response, "audit_id", "")),
        status_code=response.status_code,
        remote_addr=client_address(request),
    )


def _is_json(request: HttpRequest) -> bool:
    return "json" in request.content_type
