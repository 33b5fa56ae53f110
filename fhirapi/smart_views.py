"""SMART Backend Services endpoints: discovery and the token endpoint (docs/fhir.md#smart-backend-services).

The token endpoint speaks OAuth 2.0, not FHIR: its answers are OAuth JSON (an access token, or
`error` and `error_description`), never cached. It is rate-limited per address and logged like
every other call, with the client once its assertion has named one.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from carereg.proxy import client_address
from fhirapi.auth import api_view, log_call
from fhirapi.jwks import ALGORITHMS
from fhirapi.limits import check_rate, checked_body
from fhirapi.responses import FhirError
from fhirapi.smart import OAuthError, exchange

FORM = "application/x-www-form-urlencoded"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
SCOPES_SUPPORTED = [
    "system/*.rs",
    "system/*.read",
    "system/Patient.rs",
    "system/Observation.rs",
    "system/QuestionnaireResponse.rs",
    "system/QuestionnaireResponse.c",
    "system/QuestionnaireResponse.crs",
]


def token_url(request: HttpRequest) -> str:
    """The token endpoint's URL: what `aud` of every assertion must be, exactly."""
    return request.build_absolute_uri(reverse("fhirapi:token"))


@api_view("smart-configuration", public=True, needs=None)
def smart_configuration(request: HttpRequest) -> HttpResponse:
    """Discovery at <base>/.well-known/smart-configuration, as SMART App Launch v2 places it."""
    return JsonResponse(
        {
            "token_endpoint": token_url(request),
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": list(ALGORITHMS),
            "scopes_supported": SCOPES_SUPPORTED,
            "capabilities": ["client-confidential-asymmetric", "permission-v1", "permission-v2"],
        }
    )


@login_not_required
@csrf_exempt
def token(request: HttpRequest) -> HttpResponse:
    client = None
    try:
        check_rate("address", client_address(request) or "unknown", settings.CAREREG_FHIR_RATE_PER_ADDRESS)
        if request.method != "POST":
            raise OAuthError("invalid_request", "POST the token request.", 405)
        if request.content_type != FORM:
            raise OAuthError("invalid_request", f"Send the token request as {FORM}.")
        checked_body(request)
        request.body_checked = True
        issued = exchange(request.POST, token_url=token_url(request))
        client = issued.client
        response = JsonResponse(
            {
                "access_token": issued.token,
                "token_type": "bearer",
                "expires_in": issued.expires_in,
                "scope": issued.scope,
            },
            headers=NO_STORE,
        )
    except OAuthError as error:
        client = error.client
        response = _error(error.error, error.description, error.status)
    except FhirError as error:  # the size cap or the rate limit
        response = _error("invalid_request", str(error), error.status, error.headers)
    if response.status_code == 405:
        response["Allow"] = "POST"
    log_call(request, client, "token", {}, response)
    return response


def _error(error: str, description: str, status: int, headers: dict | None = None) -> JsonResponse:
    return JsonResponse(
        {"error": error, "error_description": description}, status=status, headers={**NO_STORE, **(headers or {})}
    )
