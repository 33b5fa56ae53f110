"""Authentication, scopes, limits, the clinic's time zone and the call log, around every API view.

API calls carry `Authorization: Bearer <token>`, not a session: the views are exempt from
the login redirect and from CSRF (no cookie is ever read, so there is nothing to forge). A
token is a client's static token, or an access token from the SMART token endpoint
(fhirapi/smart.py); either way the call is the client's, limited to its clinic and scopes.
"""

import contextlib
import functools
import logging
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from carereg.proxy import client_address
from fhirapi.clients import hash_token
from fhirapi.limits import check_rate, checked_body
from fhirapi.models import AccessToken, ApiCallLog, ApiClient
from fhirapi.responses import FhirError, Issue, error_response, not_found
from fhirapi.scopes import Grant, parse_scopes, registered_grant
from fhirapi.smart import ACCESS_TOKEN_PREFIX

log = logging.getLogger(__name__)
REALM = 'Bearer realm="CareReg FHIR"'
BODY_METHODS = {"POST", "PUT", "PATCH"}


@dataclass(frozen=True)
class Caller:
    client: ApiClient
    grant: Grant


def authenticate(request: HttpRequest) -> Caller:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise FhirError(
            401, [Issue("Send an API token: Authorization: Bearer <token>.", "login")], {"WWW-Authenticate": REALM}
        )
    caller = _access_token_caller(token) if token.startswith(ACCESS_TOKEN_PREFIX) else _static_caller(token)
    client = caller.client
    if client.is_revoked:
        raise _invalid_token("The API token was revoked.")
    client.last_used_at = timezone.now()
    ApiClient.objects.filter(pk=client.pk).update(last_used_at=client.last_used_at)
    return caller


def _static_caller(token: str) -> Caller:
    client = ApiClient.objects.select_related("clinic", "service_user").filter(token_hash=hash_token(token)).first()
    if client is None or not client.service_user.is_active:
        raise _invalid_token("The API token is not valid.")
    return Caller(client, registered_grant(client.scope))


def _access_token_caller(token: str) -> Caller:
    found = (
        AccessToken.objects.select_related("client__clinic", "client__service_user")
        .filter(token_hash=hash_token(token))
        .first()
    )
    if found is None or not found.client.service_user.is_active:
        raise _invalid_token("The access token is not valid.")
    if found.expires_at <= timezone.now():
        raise _invalid_token("The access token has expired: get a new one at the token endpoint.")
    # Granted scopes are re-read within the client's registration, so that narrowing the
    # registration takes effect on tokens already issued.
    granted = parse_scopes(found.scopes).permissions & registered_grant(found.client.scope).permissions
    return Caller(found.client, Grant(granted))


def _invalid_token(message: str) -> FhirError:
    return FhirError(401, [Issue(message, "login")], {"WWW-Authenticate": f'{REALM}, error="invalid_token"'})


def insufficient_scope(resource_type: str, permission: str) -> FhirError:
    what = {"c": "create", "r": "read", "s": "search", "u": "update", "d": "delete"}[permission]
    return FhirError(
        403,
        [Issue(f"This token may not {what} {resource_type} resources.", "forbidden")],
        {"WWW-Authenticate": f'{REALM}, error="insufficient_scope"'},
    )


def api_view(resource_type: str, *, methods: tuple[str, ...] = ("GET",), needs: str | None = "r", public=False):
    """Wrap a view of the API. `needs`: the permission on `resource_type` the token must hold
    (None: the view checks for itself); `public`: no token needed (it is still rate-limited).
    Whatever goes wrong is answered with an OperationOutcome, and every call is logged."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request: HttpRequest, **kwargs) -> HttpResponse:
            caller = None
            try:
                check_rate("address", client_address(request) or "unknown", settings.CAREREG_FHIR_RATE_PER_ADDRESS)
                caller = None if public else authenticate(request)
                if caller is not None:
                    check_rate("client", str(caller.client.pk), settings.CAREREG_FHIR_RATE_PER_CLIENT)
                if request.method not in methods:
                    allowed = ", ".join(methods)
                    raise FhirError(405, [Issue(f"Use {allowed} here.", "not-supported")], {"Allow": allowed})
                if needs and not caller.grant.allows(resource_type, needs):
                    raise insufficient_scope(resource_type, needs)
                if request.method in BODY_METHODS:
                    checked_body(request)
                    request.body_checked = True
                response = _call(view, request, caller, kwargs)
            except FhirError as error:
                response = error_response(error)
            except Exception:
                log.exception("FHIR %s failed", resource_type)
                response = error_response(
                    FhirError(500, [Issue("The server could not answer this request.", "exception")])
                )
            log_call(request, caller.client if caller else None, resource_type, kwargs, response)
            return response

        return login_not_required(csrf_exempt(wrapped))

    return decorator


def _call(view, request: HttpRequest, caller: Caller | None, kwargs: dict) -> HttpResponse:
    if caller is None:
        return view(request, **kwargs)
    request.api_client, request.api_grant, request.user = caller.client, caller.grant, caller.client.service_user
    # Dates are calendar days in the clinic's time zone, as on its pages.
    with timezone.override(zoneinfo.ZoneInfo(caller.client.clinic.timezone)):
        try:
            return view(request, **kwargs)
        except Http404:
            raise not_found("The resource") from None


def log_call(request: HttpRequest, client: ApiClient | None, resource_type: str, kwargs: dict, response) -> None:
    ApiCallLog.objects.create(
        client=client,
        method=request.method[:8],
        path=request.path[:200],  # only what our URL patterns matched: resource types and ids
        parameters=",".join(_parameter_names(request))[:200],
        resource_type=resource_type,
        resource_id=str(kwargs.get("pk") or kwargs.get("key") or getattr(response, "audit_id", ""))[:64],
        status_code=response.status_code,
        remote_addr=client_address(request),
    )


def _parameter_names(request: HttpRequest) -> list[str]:
    """The names sent in the query string and, for a form post whose body was read within the
    cap, in the form: never a body that was refused, which is not parsed at all."""
    names = set(request.GET)
    if request.method == "POST" and "json" not in request.content_type and getattr(request, "body_checked", False):
        # A malformed form body: its names are not worth a failed log row.
        with contextlib.suppress(SuspiciousOperation, MultiPartParserError, ValueError):
            names |= set(request.POST)
    return sorted(names)
