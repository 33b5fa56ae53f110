"""The "entered in error" page shared by every clinical row a user may mark: contacts and
scores here, medications, referrals and education records in the care app."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.permissions import can_write_clinical, require
from carereg.forms import show_errors_on_form
from registry.forms import EnteredInErrorForm


def entered_in_error_page(
    request: HttpRequest, item, mark: Callable[..., object], what: str, *, named: str = "", consequence: str = ""
) -> HttpResponse:
    """Ask why, then `mark(by=user, reason=why)` in one transaction and go back to the patient.

    named: how the success message names the row ("The contact" when empty).
    consequence: a sentence on what marking does, shown above the form.
    """
    require(can_write_clinical(request.user), f"mark {what}s entered in error")
    patient = item.episode.patient
    form = EnteredInErrorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                mark(by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            show_errors_on_form(form, error)
        else:
            messages.success(request, f"{named or f'The {what}'} is marked entered in error; its history is kept.")
            return redirect("patients:detail", pk=patient.pk)
    context = {"item": item, "patient": patient, "form": form, "what": what, "consequence": consequence}
    return render(request, "registry/entered_in_error.html", context)
