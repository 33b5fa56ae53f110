"""Automatic logoff: after a spell without activity, at an absolute limit from login, and
everywhere at once when an account is deactivated or its second factor is reset.

The login time and the last activity are kept in the session. The last activity is written
at most once a minute, so a page view does not rewrite the session row every time.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

LOGIN_AT = "carereg_login_at"
SEEN_AT = "carereg_seen_at"
SEEN_RESOLUTION_SECONDS = 60


def idle_message() -> str:
    minutes = settings.CAREREG_IDLE_TIMEOUT_MINUTES
    return f"You were signed out after {minutes} minutes without activity. Log in again to go on."


def absolute_message() -> str:
    hours = settings.CAREREG_SESSION_MAX_HOURS
    return f"You were signed out {hours} hours after logging in. Log in again to go on."


ENDED_MESSAGE = "You were signed out: your session was ended. Ask your clinic admin if you cannot log in."


@receiver(user_logged_in, dispatch_uid="carereg_session_started")
def mark_login_time(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        now = time.time()
        request.session[LOGIN_AT] = now
        request.session[SEEN_AT] = now


def why_ended(request, now: float) -> str | None:
    """The message for a session that has to end now, or None while it may go on."""
    session = request.session
    if SESSION_KEY not in session:
        return None  # nobody is logged in: nothing to end
    user = request.user
    if not user.is_authenticated:
        # The session names an account that may not log in any more (deactivated, deleted).
        return ENDED_MESSAGE
    login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
    if login_at is None or seen_at is None:
        return ENDED_MESSAGE  # a session from before these limits: start afresh
    if user.sessions_valid_after is not None and login_at < user.sessions_valid_after.timestamp():
        return ENDED_MESSAGE
    if now - login_at > settings.CAREREG_SESSION_MAX_HOURS * 3600:
        return absolute_message()
    if now - seen_at > settings.CAREREG_IDLE_TIMEOUT_MINUTES * 60:
        return idle_message()
    return None


class SessionLimitsMiddleware:
    """Ends the session that is idle too long, too old, or of an account deactivated since.

    After MessageMiddleware, so the login page can say why; LoginRequiredMiddleware then
    sends the now anonymous request to the login page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        now = time.time()
        reason = why_ended(request, now)
        if reason:
            logout(request)
            messages.info(request, reason)
        elif SESSION_KEY in request.session and now - request.session[SEEN_AT] >= SEEN_RESOLUTION_SECONDS:
            request.session[SEEN_AT] = now
        return self.get_response(request)
