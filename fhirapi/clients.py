"""Issuing and revoking API clients: the admin and `manage.py issue_api_token` call these."""

import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import Clinic, Role, User
from fhirapi.models import ApiClient


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """32 random bytes, URL-safe: sent as `Authorization: Bearer <token>`."""
    return secrets.token_urlsafe(32)


def new_client_id() -> str:
    """Public, but unguessable so that it names nothing: the `iss` and `sub` of assertions."""
    return secrets.token_urlsafe(16)


def _service_user(name: str, clinic: Clinic) -> User:
    """The account the client's writes are recorded under: it can write clinical rows in its
    clinic (a clinic admin role, so that it never shows up as anyone's care manager) and can
    never log in (no usable password, not staff)."""
    base = f"api-{clinic.code}-{slugify(name)}"[:120]
    username, n = base, 1
    while User.objects.filter(username=username).exists():
        n += 1
        username = f"{base}-{n}"
    user = User(username=username, role=Role.CLINIC_ADMIN, first_name="API", last_name=name[:150], is_active=True)
    user.set_unusable_password()
    user._history_user = None
    user.save()
    user.clinics.add(clinic)
    return user


@transaction.atomic
def issue_api_client(*, client: ApiClient, by: User | None) -> str | None:
    """Save a new client with its service account. A client given a key set (SMART Backend
    Services) gets a client_id and no static token, and None is returned; any other gets a new
    static token, returned to be shown once and never stored."""
    if client.pk:
        raise ValidationError("This client already has a token; revoke it and issue a new client.")
    if not client.name.strip():
        raise ValidationError({"name": "Give the client a name, e.g. the system it is."})
    if client.scope not in ApiClient.Scope.values:
        raise ValidationError({"scope": f"Scope must be one of {', '.join(ApiClient.Scope.values)}."})
    token = None if client.jwks else new_token()
    client.token_hash = hash_token(token) if token else None
    client.client_id = new_client_id() if client.jwks else None
    client.service_user = _service_user(client.name, client.clinic)
    client.created_by = by
    client.created_at = timezone.now()
    client._history_user = by
    client.full_clean(exclude=["service_user", "created_by", "clinic", "token_hash", "client_id"])
    client.save()
    return token


@transaction.atomic
def revoke_api_client(*, client: ApiClient, by: User | None) -> ApiClient:
    """The token stops working at once; the client and its calls stay on record."""
    if client.is_revoked:
        return client
    client.revoked_at = timezone.now()
    client._history_user = by
    client.save(update_fields=["revoked_at"])
    return client
