"""Login throttling with django-axes: what a locked-out person sees. Whose address counts is
carereg.proxy.client_address (AXES_CLIENT_IP_CALLABLE), the access log's too."""

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
