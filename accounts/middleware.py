import zoneinfo
from urllib.parse import urlencode

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware

from accounts.mfa import has_confirmed_device

SESSION_KEY = "clinic_timezone"


class ClinicTimezoneMiddleware:
    """Dates are calendar days in the clinic's time zone (docs/clinical-definitions.md#conventions).

    The zone of the user's first clinic is looked up once per session, not per request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = self._zone(request)
        if zone:
            with timezone.override(zoneinfo.ZoneInfo(zone)):
                return self.get_response(request)
        return self.get_response(request)

    @staticmethod
    def _zone(request) -> str | None:
        if not request.user.is_authenticated:
            return None
        if SESSION_KEY not in request.session:
            request.session[SESSION_KEY] = (
                request.user.visible_clinics().order_by("pk").values_list("timezone", flat=True).first() or ""
            )
        return request.session[SESSION_KEY] or None


class OTPSessionMiddleware(OTPMiddleware):
    """django-otp's OTPMiddleware without its query on every request.

    A session is verified when it holds the device id that django_otp.login put there after a
    good code (accounts.mfa.mark_verified, which only ever gets a confirmed device of the
    session's own user); the device itself is loaded only if something asks for it. Removing
    a user's devices (reset_mfa) also ends their sessions, so a stale id is never trusted.
    """

    def _verify_user_sync(self, request, user):
        self._init_user_fields(user)
        if user.is_authenticated and request.session.get(DEVICE_ID_SESSION_KEY):
            persistent_id = request.session[DEVICE_ID_SESSION_KEY]
            user.otp_device = SimpleLazyObject(
                lambda: self._finalize_device(request, user, self._device_from_persistent_id(persistent_id))
            )
        return user


def mfa_not_required(view):
    """Mark a view a logged-in user may reach before giving the second factor (the MFA steps
    themselves, logout)."""
    view.mfa_required = False
    return view


class MfaRequiredMiddleware:
    """Until the session is verified with a second factor, every page sends a logged-in user
    to the code step (or to enrollment, for an account without an authenticator yet).

    After OTPMiddleware (request.user.is_verified) and LoginRequiredMiddleware. Views marked
    login_not_required (login, the FHIR API with its tokens, the patients' self-report links)
    and mfa_not_required are let through.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not getattr(view_func, "login_required", True) or not getattr(view_func, "mfa_required", True):
            return None
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        step = "accounts:mfa_verify" if has_confirmed_device(user) else "accounts:mfa_setup"
        target = request.get_full_path() if request.method == "GET" else ""
        url = reverse(step)
        if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            url = f"{url}?{urlencode({REDIRECT_FIELD_NAME: target})}"
        return redirect(url)
