"""A user's own account: who they are, their password, and their second factor's backup codes."""

import logging

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import mfa
from accounts.forms import AppCodeForm
from accounts.mfa_views import NEW_CODES, NEXT

log = logging.getLogger(__name__)


@never_cache
def account(request: HttpRequest, codes_form: AppCodeForm | None = None) -> HttpResponse:
    user = request.user
    context = {
        "clinics": user.visible_clinics(),
        "has_app": mfa.has_confirmed_device(user),
        "backup_codes_left": mfa.remaining_backup_codes(user),
        "backup_code_count": mfa.BACKUP_CODE_COUNT,
        "codes_form": codes_form or AppCodeForm(auto_id="codes_%s"),
    }
    return render(request, "accounts/account.html", context, status=400 if codes_form else 200)


@never_cache
@require_POST
def renew_backup_codes(request: HttpRequest) -> HttpResponse:
    """Ten new backup codes for a code from the app (not a backup code: the phone must be at
    hand); the old ones stop working. Shown once, on the same page as at enrollment."""
    form = AppCodeForm(request.POST, auto_id="codes_%s")
    if form.is_valid() and mfa.check_code(request.user, form.cleaned_data["code"]) is None:
        form.add_error("code", "That code does not match. Type the code your app shows now.")
    if not form.is_valid():
        return account(request, codes_form=form)
    request.session[NEW_CODES] = mfa.new_backup_codes(request.user)
    request.session[NEXT] = reverse("accounts:account")
    log.info("mfa backup codes renewed user_id=%s", request.user.pk)
    return redirect("accounts:mfa_backup_codes")


class PasswordChange(auth_views.PasswordChangeView):
    """The current password, then the new one twice, checked by the password validators.
    This session goes on; the account's other sessions end at their next request, because
    Django checks each session against the password it was started with."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:account")

    def form_valid(self, form):
        response = super().form_valid(form)
        log.info("password changed user_id=%s", self.request.user.pk)
        messages.success(self.request, "Your password is changed. Any other session of yours is signed out.")
        return response
