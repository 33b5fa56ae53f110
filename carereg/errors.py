"""The error page, drawn without the database, and what it can tell about a save just before.

A save answered "saved" whose next page then fails (the database went away between the POST
and the GET its redirect asked for) must not tell the person to enter it again. Two things
survive in the browser, needing no database to read: the save's success message (Django's
messages keep it in a signed cookie until a page shows it) and the time of the last form the
server accepted (SavedAtMiddleware, a signed cookie of its own). Neither holds PHI: messages
name what was saved ("Contact saved with scores."), never whom. See docs/deployment.md#errors.
"""

import sys

from django.conf import settings
from django.contrib.messages import constants
from django.contrib.messages.storage.cookie import CookieStorage
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.utils import timezone

SAVED_AT_COOKIE = "carereg_saved_at"
_SALT = "carereg.errors.saved_at"
# Told only about a save this recent: an older success message waiting in a cookie is no news.
SAVED_NOTICE_SECONDS = 10 * 60
RETRY_AFTER_SECONDS = 30


class SavedAtMiddleware:
    """Notes when the server last accepted a form (a POST answered with a redirect), in the
    clinic's time as the person saw it (this runs inside the clinic time zone middleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method == "POST" and response.status_code in (301, 302, 303):
            response.set_signed_cookie(
                SAVED_AT_COOKIE,
                timezone.localtime().strftime("%H:%M"),
                salt=_SALT,
                max_age=SAVED_NOTICE_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: 503 with Retry-After when the database is unreachable, else 500. A GET
    that follows a save says what was saved, so nothing is typed twice."""
    unavailable = isinstance(sys.exc_info()[1], OperationalError | InterfaceError)
    context = {
        "unavailable": unavailable,
        "after_a_post": request.method == "POST",
        "saved": saved_just_before(request) if request.method == "GET" else None,
    }
    response = HttpResponse(loader.render_to_string("500.html", context), status=503 if unavailable else 500)
    if unavailable:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def saved_just_before(request: HttpRequest) -> dict | None:
    """The success messages still waiting to be shown, and when their form was accepted, if
    that was in the last few minutes; read from signed cookies only."""
    at = request.get_signed_cookie(SAVED_AT_COOKIE, default=None, salt=_SALT, max_age=SAVED_NOTICE_SECONDS)
    messages = [str(message) for message in CookieStorage(request) if message.level == constants.SUCCESS]
    return {"at": at, "messages": messages} if at and messages else None
