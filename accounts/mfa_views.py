"""The second step of logging in: a code from the authenticator app or a backup code, and
enrollment of the app at the first login."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts import mfa
from accounts.forms import CodeForm, EnrollForm
from accounts.middleware import mfa_not_required

NEW_CODES = "carereg_new_backup_codes"
NEXT = "carereg_after_mfa"


def _same_next(name: str, request: HttpRequest) -> str:
    query = request.GET.urlencode()
    return f"{resolve_url(name)}?{query}" if query else resolve_url(name)


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME) or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@mfa_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_verified():
        return redirect(_next_url(request))
    if not mfa.has_confirmed_device(user):
        return redirect(_same_next("accounts:mfa_setup", request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = mfa.check_code(user, form.cleaned_data["code"])
        if device is not None:
            mfa.mark_verified(request, device)
            if device.name == mfa.BACKUP_DEVICE_NAME:
                left = mfa.remaining_backup_codes(user)
                messages.warning(
                    request,
                    f"You used a backup code; {left} left. Each works once.",
                )
            return redirect(_next_url(request))
        form.add_error("code", "That code is not right, or was used already. Try the code your app shows now.")
    context = {
        "form": form,
        "next": request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, ""),
        "demo_code": _demo_code(user),
    }
    return render(request, "accounts/mfa_verify.html", context, status=400 if form.errors else 200)


def _demo_code(user) -> str | None:
    """Trying the demo needs no phone: with DEBUG on, a demo account's code step shows the code
    its app would (the demo secrets are published). Never with DEBUG off, never another account."""
    if not settings.DEBUG:
        return None
    device = mfa.demo_device(user)
    return mfa.current_code(device) if device else None


@mfa_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    user = request.user
    if mfa.has_confirmed_device(user):
        # Enrolled already: a new app replaces the old one only after a reset by an admin.
        return redirect(_same_next("accounts:mfa_verify", request))
    device = mfa.pending_app_device(user)
    form = EnrollForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = mfa.confirm_enrollment(user=user, device=device, token=form.cleaned_data["code"])
        if codes is not None:
            device.refresh_from_db()
            mfa.mark_verified(request, device)
            request.session[NEW_CODES] = codes
            request.session[NEXT] = _next_url(request)
            return redirect("accounts:mfa_backup_codes")
        form.add_error("code", "That code does not match. Check the app's clock and type the code it shows now.")
    context = {
        "form": form,
        "qr_svg": mfa.qr_svg(device),
        "secret": mfa.secret_text(device),
        "next": request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME, ""),
    }
    return render(request, "accounts/mfa_setup.html", context, status=400 if form.errors else 200)


@never_cache
def backup_codes(request: HttpRequest) -> HttpResponse:
    """The ten backup codes, shown once right after enrollment: reloading shows them no more."""
    codes = request.session.pop(NEW_CODES, None)
    after = request.session.pop(NEXT, None) or resolve_url(settings.LOGIN_REDIRECT_URL)
    if not codes:
        return redirect(after)
    return render(request, "accounts/mfa_backup_codes.html", {"codes": codes, "after": after})


@login_not_required
def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin's login page gives way to the app's, which asks for the second factor. A
    logged-in account the admin refuses (not staff) is told so, not sent round in a loop."""
    if request.user.is_authenticated and not request.user.is_verified():
        return redirect(_same_next("accounts:mfa_verify", request))
    if request.user.is_authenticated:
        raise PermissionDenied("Your account cannot use the Django admin.")
    query = request.GET.urlencode()
    return redirect(f"{resolve_url('login')}?{query}" if query else "login")
