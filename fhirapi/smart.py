"""SMART Backend Services (SMART App Launch v2): a system exchanges a signed assertion for a
short-lived access token (docs/fhir.md#smart-backend-services).

The client signs a JWT with a private key whose public half it registered (ApiClient.jwks):
`iss` and `sub` its client_id, `aud` our token endpoint's URL, `exp` at most five minutes ahead,
a `jti` never used before. Every failure of that client authentication is `invalid_client`
(RFC 7523 section 3.2, which SMART follows); scopes beyond the client's registration are
`invalid_scope`. Error descriptions say what to fix and never echo a secret.
"""

import datetime
from dataclasses import dataclass

import jwt
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from fhirapi.clients import hash_token, new_token
from fhirapi.jwks import ALGORITHMS, signing_key
from fhirapi.models import AccessToken, ApiClient, UsedAssertion
from fhirapi.scopes import ScopeError, parse_scopes, registered_grant

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
GRANT_TYPE = "client_credentials"
MAX_ASSERTION_LIFETIME = datetime.timedelta(minutes=5)
CLOCK_SKEW = datetime.timedelta(seconds=30)
# Access tokens start with this, so that a bearer token is looked up in one table only.
ACCESS_TOKEN_PREFIX = "smart."


class OAuthError(Exception):
    """An OAuth 2.0 error response (RFC 6749 section 5.2)."""

    def __init__(self, error: str, description: str, status: int = 400, client: ApiClient | None = None):
        super().__init__(description)
        self.error, self.description, self.status, self.client = error, description, status, client


def invalid_client(description: str) -> OAuthError:
    return OAuthError("invalid_client", description, 401)


@dataclass(frozen=True)
class IssuedToken:
    client: ApiClient
    token: str
    scope: str
    expires_in: int


def exchange(form, *, token_url: str) -> IssuedToken:
    """Check a client_credentials token request (its form fields) and issue an access token."""
    if form.get("grant_type") != GRANT_TYPE:
        raise OAuthError("unsupported_grant_type", f"Only grant_type={GRANT_TYPE} is supported here.")
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise OAuthError("invalid_request", f"Send client_assertion_type={ASSERTION_TYPE}.")
    assertion = form.get("client_assertion") or ""
    if not assertion:
        raise OAuthError("invalid_request", "Send the signed client_assertion.")
    client, claims = authenticate_assertion(assertion, token_url=token_url)
    requested = form.get("scope", "")
    try:
        wanted = parse_scopes(requested)
    except ScopeError as error:
        raise OAuthError("invalid_scope", str(error), client=client) from None
    allowed = registered_grant(client.scope)
    if not wanted <= allowed:
        beyond = [scope for scope in requested.split() if not parse_scopes(scope) <= allowed]
        raise OAuthError(
            "invalid_scope",
            f"Beyond this client's registration ({client.scope}): {', '.join(beyond)}.",
            client=client,
        )
    return _issue(client, claims, " ".join(dict.fromkeys(requested.split())))


def authenticate_assertion(assertion: str, *, token_url: str) -> tuple[ApiClient, dict]:
    """The client whose registered key signed the assertion, and its claims; invalid_client
    for anything else (signature, algorithm, kid, iss/sub, aud, exp, a missing jti)."""
    try:
        header = jwt.get_unverified_header(assertion)
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise invalid_client("The client_assertion is not a JWT.") from None
    if header.get("alg") not in ALGORITHMS:
        raise invalid_client(f"Sign the assertion with {' or '.join(ALGORITHMS)}.")
    if header.get("typ", "JWT") != "JWT":
        raise invalid_client('The assertion\'s typ is "JWT".')
    client_id = unverified.get("iss")
    client = _client(client_id)
    key = signing_key(client.jwks, str(header.get("kid", "")), header["alg"])
    if key is None:
        raise invalid_client("No registered key of this client has the assertion's kid and algorithm.")
    try:
        claims = jwt.decode(
            assertion,
            key,
            algorithms=[header["alg"]],
            audience=token_url,
            issuer=client.client_id,
            leeway=CLOCK_SKEW,
            options={"require": ["iss", "sub", "aud", "exp", "jti"]},
        )
    except jwt.ExpiredSignatureError:
        raise invalid_client("The assertion has expired: sign a new one for each token request.") from None
    except jwt.InvalidAudienceError:
        raise invalid_client(f"The assertion's aud must be this token endpoint, {token_url}.") from None
    except jwt.InvalidSignatureError:
        raise invalid_client("The assertion's signature does not match the client's registered key.") from None
    except jwt.MissingRequiredClaimError as error:
        raise invalid_client(f"The assertion has no {error.claim} claim.") from None
    except jwt.PyJWTError:
        raise invalid_client("The assertion could not be verified.") from None
    _check_claims(claims, client)
    return client, claims


def _client(client_id) -> ApiClient:
    client = (
        ApiClient.objects.select_related("clinic", "service_user").filter(client_id=str(client_id or "")).first()
        if isinstance(client_id, str) and client_id
        else None
    )
    if client is None:
        raise invalid_client("The assertion's iss is not a registered client_id.")
    if client.is_revoked or not client.service_user.is_active:
        raise invalid_client("This client was revoked.")
    return client


def _check_claims(claims: dict, client: ApiClient) -> None:
    if claims["sub"] != client.client_id:
        raise invalid_client("The assertion's sub must be the client_id, as its iss is.")
    expires = datetime.datetime.fromtimestamp(claims["exp"], tz=datetime.UTC)
    if expires > timezone.now() + MAX_ASSERTION_LIFETIME + CLOCK_SKEW:
        raise invalid_client("The assertion's exp is more than five minutes ahead.")
    if not isinstance(claims["jti"], str) or not claims["jti"] or len(claims["jti"]) > 255:
        raise invalid_client("The assertion's jti is a unique string of at most 255 characters.")


def _issue(client: ApiClient, claims: dict, scope: str) -> IssuedToken:
    """The jti is recorded in the same transaction as the token: the unique key refuses a second
    use of the assertion, even one arriving at the same moment."""
    now = timezone.now()
    lifetime = settings.CAREREG_SMART_TOKEN_SECONDS
    token = ACCESS_TOKEN_PREFIX + new_token()
    assertion_expires = datetime.datetime.fromtimestamp(claims["exp"], tz=datetime.UTC) + CLOCK_SKEW
    try:
        with transaction.atomic():
            UsedAssertion.objects.create(client=client, jti=claims["jti"], expires_at=assertion_expires)
            AccessToken.objects.create(
                client=client,
                token_hash=hash_token(token),
                scopes=scope,
                expires_at=now + datetime.timedelta(seconds=lifetime),
            )
    except IntegrityError:
        raise invalid_client("This assertion was used already: sign a new one, with a new jti.") from None
    client.last_used_at = now
    ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
    return IssuedToken(client=client, token=token, scope=scope, expires_in=lifetime)


def forget_expired() -> tuple[int, int]:
    """Delete access tokens and used jtis past their expiry: set-based, safe to repeat."""
    now = timezone.now()
    tokens, _ = AccessToken.objects.filter(expires_at__lt=now).delete()
    assertions, _ = UsedAssertion.objects.filter(expires_at__lt=now).delete()
    return tokens, assertions
