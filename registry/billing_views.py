"""The monthly CoCM billing report (docs/clinical-definitions.md#cocm-billing-time) and the caseload-size report
(docs/clinical-definitions.md#caseload-size)."""

import datetime

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from accounts.models import Role, User
from accounts.permissions import can_administer_clinic, require
from carereg.lib import csv as csv_file
from patients.models import Episode
from registry.billing import CSV_COLUMNS, billing_rows, code_totals, csv_values, month_end
from registry.caseload_size import caseload_sizes

BILLING_ROLES = {Role.CLINIC_ADMIN, Role.CARE_MANAGER}
ROWS_PER_PAGE = 100  # rendering thousands of rows costs more than the report's query; the CSV has them all


class MonthConverter:
    """`2026-11` in a path <-> the first day of that month; a month that does not exist is a 404."""

    regex = r"[0-9]{4}-[0-9]{2}"

    def to_python(self, value: str) -> datetime.date:
        return datetime.datetime.strptime(value, "%Y-%m").date()

    def to_url(self, value: datetime.date) -> str:
        return f"{value:%Y-%m}"


def can_see_billing(user) -> bool:
    """Clinic admins (data managers) see their clinics' billing; care managers their own caseload's."""
    return user.is_superuser or user.role in BILLING_ROLES


def _choice(request: HttpRequest, name: str, options) -> object | None:
    value = request.GET.get(name, "")
    return next((option for option in options if str(option.pk) == value), None)


def _scope(request: HttpRequest) -> dict:
    """The episodes the user may bill for, narrowed by the clinic and care manager chosen (ids only)."""
    user = request.user
    clinics = list(user.visible_clinics())
    episodes = Episode.objects.visible_to(user)
    if user.role == Role.CARE_MANAGER:
        return {"episodes": episodes.filter(patient__care_manager=user), "clinics": [], "care_managers": []}
    care_managers = list(
        User.objects.filter(role=Role.CARE_MANAGER, clinics__in=clinics).distinct().order_by("last_name", "pk")
    )
    clinic, care_manager = _choice(request, "clinic", clinics), _choice(request, "care_manager", care_managers)
    if clinic:
        episodes = episodes.filter(patient__clinic=clinic)
    if care_manager:
        episodes = episodes.filter(patient__care_manager=care_manager)
    return {
        "episodes": episodes,
        "clinics": clinics,
        "care_managers": care_managers,
        "clinic": clinic,
        "care_manager": care_manager,
    }


def _filters(scope: dict) -> str:
    params = {key: scope[key].pk for key in ("clinic", "care_manager") if scope.get(key)}
    return f"?{urlencode(params)}" if params else ""


@require_GET
def billing_index(request: HttpRequest) -> HttpResponse:
    """The month picker's target: ?month=YYYY-MM (not PHI) moves to that month's page."""
    require(can_see_billing(request.user), "see billing reports")
    try:
        month = datetime.datetime.strptime(request.GET.get("month", ""), "%Y-%m").date()
    except ValueError:
        month = timezone.localdate().replace(day=1)
    params = {key: request.GET[key] for key in ("clinic", "care_manager") if request.GET.get(key, "").isdigit()}
    url = reverse("registry:billing", kwargs={"month": month})
    return redirect(f"{url}?{urlencode(params)}" if params else url)


@require_GET
def billing_report(request: HttpRequest, month: datetime.date) -> HttpResponse:
    require(can_see_billing(request.user), "see billing reports")
    scope = _scope(request)
    rows = billing_rows(scope["episodes"], month)  # all of them: the totals count every row
    page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    previous_month = (month - datetime.timedelta(days=1)).replace(day=1)
    next_month = month_end(month) + datetime.timedelta(days=1)
    return render(
        request,
        "registry/billing.html",
        {
            **scope,
            "month": month,
            "rows": rows,
            "page": page,
            "totals": code_totals(rows),
            "billable": sum(1 for row in rows if row.codes),
            "previous_month": previous_month,
            "next_month": next_month,
            "filters": _filters(scope),
            "is_admin": can_administer_clinic(request.user),
        },
    )


@require_GET
def billing_csv(request: HttpRequest, month: datetime.date) -> HttpResponse:
    """The page's rows as CSV, in the columns of `manage.py billing_report`."""
    require(can_see_billing(request.user), "download billing reports")
    rows = billing_rows(_scope(request)["episodes"], month)
    return csv_file.response(f"carereg-billing-{month:%Y-%m}.csv", [CSV_COLUMNS, *map(csv_values, rows)])


@require_GET
def caseload_size_report(request: HttpRequest) -> HttpResponse:
    """Every care manager of the user's clinics: open caseload against the AIMS range for their FTE."""
    require(can_administer_clinic(request.user), "see the caseload-size report")
    clinics = request.user.visible_clinics()
    care_managers = User.objects.filter(role=Role.CARE_MANAGER, is_active=True, clinics__in=clinics).distinct()
    sizes = caseload_sizes(care_managers, Episode.objects.visible_to(request.user))
    return render(request, "registry/caseload_size.html", {"sizes": sizes})
