"""Login throttling with django-axes: what a locked-out person sees, and whose address counts."""

import math

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render


def cooloff_minutes() -> int:
    return max(1, math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60))


def lockout_message() -> str:
    return f"Too many failed attempts: try again in {cooloff_minutes()} minutes or ask your clinic admin."


def locked_out(request, original_response=None, credentials=None):
    """The login page again, with the reason and no way round it but waiting (429)."""
    username = (credentials or {}).get("username", "")
    form = AuthenticationForm(request, initial={"username": username})
    return render(
        request,
        "registration/login.html",
        {"form": form, "lockout_message": lockout_message(), "next": request.POST.get("next", "")},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )


def client_ip(request) -> str | None:
    """The address a failed login came from.

    Behind the deployment's reverse proxy (BEHIND_PROXY, which also sets
    SECURE_PROXY_SSL_HEADER) it is the last X-Forwarded-For entry, the one our proxy added;
    anything before it was written by the client and could be forged.
    """
    if settings.SECURE_PROXY_SSL_HEADER:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if forwarded and forwarded[-1]:
            return forwarded[-1]
    return request.META.get("REMOTE_ADDR")
