"""The outcomes report: figures per clinic and care manager, trends, and CSV downloads."""

import datetime

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.models import Clinic, Role
from accounts.permissions import require
from carereg.dates import DATE_INPUT
from carereg.lib import csv as csv_file
from patients.models import Episode
from registry.bar_charts import bar_chart
from registry.caseload import month_bounds
from registry.outcomes import (
    CSV_HEADER,
    MEASURES,
    OUTCOME_POINTS,
    WINDOW_DAYS,
    Period,
    csv_records,
    figure_rows,
    improvement_counts,
    outcome_figures,
)
from registry.trends import change_distribution, discharges, monthly_trends

MAX_PERIOD_DAYS = 3 * 366  # the monthly figures and the charts grow with the months: keep the page readable


# The report opens on the latest year whose 12-month windows (index + 305 to 425 days) have all
# closed, so that its 12-month columns have values; a more recent period is one choice away.
WINDOWS_CLOSE_AFTER = datetime.timedelta(days=OUTCOME_POINTS["12m"] + WINDOW_DAYS)


def default_end(today: datetime.date) -> datetime.date:
    return today - WINDOWS_CLOSE_AFTER


class OutcomesForm(forms.Form):
    start = forms.DateField(label="From", widget=DATE_INPUT, required=False)
    end = forms.DateField(label="To", widget=DATE_INPUT, required=False)
    clinic = forms.ModelChoiceField(queryset=Clinic.objects.none(), required=False, empty_label="All my clinics")

    def __init__(self, *args, clinics, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clinic"].queryset = clinics

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        end = data.get("end") or (today if data.get("start") else default_end(today))
        start = data.get("start") or end.replace(year=end.year - 1) + datetime.timedelta(days=1)
        if end > today:
            self.add_error("end", "The period cannot end after today.")
        elif start > end:
            self.add_error("start", "The period must start on or before its last day.")
        elif (end - start).days > MAX_PERIOD_DAYS:
            self.add_error("start", "Choose a period of three years or less.")
        data["period"] = Period(start, end)
        return data


def _scope(request: HttpRequest):
    """Clinic admins see their clinics; a care manager sees their own caseload."""
    user = request.user
    require(user.is_superuser or user.role in (Role.CLINIC_ADMIN, Role.CARE_MANAGER), "see outcome reports")
    episodes = Episode.objects.visible_to(user)
    if user.role == Role.CARE_MANAGER and not user.is_superuser:
        episodes = episodes.filter(patient__care_manager=user)
    clinics = user.visible_clinics().order_by("code")
    form = OutcomesForm(request.GET, clinics=clinics)
    if not form.is_valid():
        return form, None, None, None
    if form.cleaned_data["clinic"]:
        clinics = clinics.filter(pk=form.cleaned_data["clinic"].pk)
        episodes = episodes.filter(patient__clinic__in=clinics)
    return form, episodes, clinics, form.cleaned_data["period"]


def outcomes(request: HttpRequest) -> HttpResponse:
    form, episodes, clinics, period = _scope(request)
    context = {"form": form, "measures": MEASURES}
    if period is not None:
        today = timezone.localdate()
        # Each month's end for the trend, the period's last day among them for the figures.
        improvement = improvement_counts(episodes, period.month_ends())
        figures = outcome_figures(episodes, period, today, improvement)
        rows = figure_rows(figures, clinics)
        trends = monthly_trends(episodes, period, improvement)
        context.update(
            period=period,
            groups=_groups(rows),
            overall=[(m, figures.total(m)) for m in MEASURES],
            discharges=discharges(episodes, period),
            charts=_charts(trends, figures, change_distribution(episodes, period), period, today),
            defaulted=not (request.GET.get("start") or request.GET.get("end")),
            query=request.GET.urlencode(),
        )
    return render(request, "registry/outcomes.html", context)


def _groups(rows) -> list[dict]:
    """The rows of the table: a clinic total or a care manager, with the eight figures in order."""
    groups = []
    for row in rows:
        if not groups or (groups[-1]["clinic"], groups[-1]["care_manager"]) != (row.clinic, row.care_manager):
            groups.append({"clinic": row.clinic, "care_manager": row.care_manager, "figures": []})
        groups[-1]["figures"].append(row.figure)
    return groups


def month_label(month: datetime.date, period: Period, today: datetime.date) -> str:
    """ "Mar 26", or "Mar 26 (partial)" when the period or today cuts the month short."""
    first, last = month_bounds(month)
    partial = first < period.start or last > min(period.end, today)
    return f"{month:%b %y}" + (" (partial)" if partial else "")


def _charts(trends, figures, distribution, period: Period, today: datetime.date) -> list:
    label = lambda month: month_label(month, period, today)  # noqa: E731 - a one-line formatter
    contact = figures.by_month["contact_rate"]
    return [
        bar_chart("enrolled", "Enrollments per month", [(label(t["month"]), t["enrolled"]) for t in trends]),
        bar_chart("active", "Active caseload at each month's end", [(label(t["month"]), t["active"]) for t in trends]),
        bar_chart(
            "contact",
            "Contact rate by month",
            [(label(t["month"]), contact[t["month"]].percent) for t in trends],
            percent=True,
            target=80,
        ),
        bar_chart(
            "improvement",
            "Improvement rate at each month's end",
            [(label(t["month"]), t["improvement"].percent) for t in trends],
            percent=True,
            target=60,
        ),
        bar_chart("change", "PHQ-9 change from baseline (episodes with two scores)", distribution),
    ]


def outcomes_csv(request: HttpRequest) -> HttpResponse:
    """The figures as the outcomes_report command prints them."""
    form, episodes, clinics, period = _scope(request)
    if period is None:
        return HttpResponse(" ".join(e for errors in form.errors.values() for e in errors), status=400)
    rows = figure_rows(outcome_figures(episodes, period, timezone.localdate()), clinics)
    return csv_file.response(f"outcomes-{period.start}-{period.end}.csv", [CSV_HEADER, *csv_records(rows)])


def outcomes_monthly_csv(request: HttpRequest) -> HttpResponse:
    """Month by month: enrollments, active caseload, contact rate and improvement rate."""
    form, episodes, _clinics, period = _scope(request)
    if period is None:
        return HttpResponse(" ".join(e for errors in form.errors.values() for e in errors), status=400)
    improvement = improvement_counts(episodes, period.month_ends())
    figures = outcome_figures(episodes, period, timezone.localdate(), improvement)
    contact = figures.by_month["contact_rate"]
    records = [
        [
            f"{t['month']:%Y-%m}",
            t["enrolled"],
            t["active"],
            contact[t["month"]].numerator,
            contact[t["month"]].denominator,
            t["improvement"].numerator,
            t["improvement"].denominator,
        ]
        for t in monthly_trends(episodes, period, improvement)
    ]
    header = [
        "month",
        "enrollments",
        "active_at_month_end",
        "contact_rate_numerator",
        "contact_rate_denominator",
        "improvement_numerator",
        "improvement_denominator",
    ]
    return csv_file.response(f"outcomes-monthly-{period.start}-{period.end}.csv", [header, *records])
