"""The figures a program is judged by (clinical-rules 10), per clinic and care manager, for a period.

Every figure is a numerator over a denominator counted in SQL, grouped by clinic and care
manager in one query per figure (per month for the monthly ones), so the report costs the same
whatever the number of patients. Clinic and overall totals are sums of the groups: each
episode belongs to exactly one clinic and at most one care manager (the patient's current one).
The unit is the episode of care (clinical-rules 3).
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from consults.models import CaseReview
from patients.models import Episode
from registry.caseload import month_bounds, whole_percent
from registry.expressions import AddDays
from registry.models import Contact, Measurement
from registry.thresholds import threshold

WINDOW_DAYS = 60  # +/- around the 6- and 12-month points (NQF 1884/1885, 0710/0711)
OUTCOME_POINTS = {"6m": 180, "12m": 365}
IMPROVEMENT_AFTER_DAYS = 70
CONSULTATION_WINDOW_DAYS = 60
GROUP = ("patient__clinic_id", "patient__care_manager_id")

# The definition shown beside each figure, word for word, and printed by the command's --help.
MEASURES = {
    "response_6m": (
        "Depression response at 6 months",
        "Of the episodes whose index PHQ-9 (their first PHQ-9 above 9) falls in the period and whose "
        "window (index + 120 to 240 days) has closed, those whose latest PHQ-9 in the window is at least "
        "50% below the index score. No PHQ-9 in the window counts as not met (NQF 1884).",
    ),
    "remission_6m": (
        "Depression remission at 6 months",
        "The same episodes, those whose latest PHQ-9 in the window (index + 120 to 240 days) is below 5 (NQF 0711).",
    ),
    "response_12m": (
        "Depression response at 12 months",
        "As at 6 months, with the window index + 305 to 425 days (NQF 1885).",
    ),
    "remission_12m": (
        "Depression remission at 12 months",
        "As at 6 months, with the window index + 305 to 425 days: latest PHQ-9 in it below 5 "
        "(NQF 0710, CMS159, MIPS 370).",
    ),
    "phq9_utilization": (
        "PHQ-9 utilization",
        "Of the four-month periods (January-April, May-August, September-December, within the period) "
        "in which an episode had a completed contact, those with a PHQ-9 in the same four months "
        "(NQF 0712).",
    ),
    "contact_rate": (
        "Contact rate (target 80%)",
        "Of the episodes open in each month of the period, counted once per month, those with a "
        "completed contact and a symptom score (any instrument) in that month (NY OMH).",
    ),
    "improvement_rate": (
        "Improvement rate (target 60%)",
        "Of the episodes open on the period's last day, enrolled at least 70 days before it and with a "
        "PHQ-9 by then, those improved on that day: latest PHQ-9 below 10 or at least 50% below the "
        "baseline (NY OMH).",
    ),
    "consultation_rate": (
        "Psychiatric consultation rate (target 80%)",
        "Of the episodes open on the period's last day and not improving on it (the clinic's "
        "not-improving days past the initial assessment, latest PHQ-9 10 or more and less than 50% "
        "below baseline), those with a signed psychiatric case review in the 60 days up to it (NY OMH).",
    ),
}
EXCLUDED = Q(discharge_reason=Episode.DischargeReason.DECEASED)


@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date

    def months(self) -> list[tuple[datetime.date, datetime.date]]:
        """The calendar months touching the period, each clipped to it."""
        months, day = [], self.start.replace(day=1)
        while day <= self.end:
            first, last = month_bounds(day)
            months.append((max(first, self.start), min(last, self.end)))
            day = last + datetime.timedelta(days=1)
        return months

    def thirds(self) -> list[tuple[datetime.date, datetime.date]]:
        """The four-month periods of NQF 0712 touching the period, each clipped to it."""
        thirds, year = [], self.start.year
        while datetime.date(year, 1, 1) <= self.end:
            for first_month in (1, 5, 9):
                first = datetime.date(year, first_month, 1)
                last = month_bounds(datetime.date(year, first_month + 3, 1))[1]
                if first <= self.end and last >= self.start:
                    thirds.append((max(first, self.start), min(last, self.end)))
            year += 1
        return thirds


@dataclass
class Figure:
    numerator: int = 0
    denominator: int = 0

    @property
    def percent(self) -> int | None:
        return whole_percent(self.numerator, self.denominator)

    @property
    def rate(self) -> str:
        """numerator / denominator to four decimals, empty when there is no denominator."""
        return f"{self.numerator / self.denominator:.4f}" if self.denominator else ""

    def add(self, numerator: int, denominator: int) -> None:
        self.numerator += numerator
        self.denominator += denominator


@dataclass
class Figures:
    """measure -> (clinic id, care manager id or None) -> Figure."""

    by_group: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(Figure)))
    # measure -> first day of the month -> Figure, for the monthly measures' trend.
    by_month: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(Figure)))

    def add_counts(self, measure: str, rows, month: datetime.date | None = None) -> None:
        for row in rows:
            key = (row["patient__clinic_id"], row["patient__care_manager_id"])
            self.by_group[measure][key].add(row["num"], row["den"])
            if month is not None:
                self.by_month[measure][month].add(row["num"], row["den"])

    def groups(self) -> set:
        return {key for per_measure in self.by_group.values() for key in per_measure}

    def total(self, measure: str, clinic_id: int | None = None) -> Figure:
        figure = Figure()
        for (clinic, _), part in self.by_group[measure].items():
            if clinic_id is None or clinic == clinic_id:
                figure.add(part.numerator, part.denominator)
        return figure

    def of(self, measure: str, clinic_id: int, care_manager_id: int | None) -> Figure:
        return self.by_group[measure].get((clinic_id, care_manager_id), Figure())


def _counts(episodes: QuerySet[Episode], denominator: Q, numerator: Q):
    return (
        episodes.order_by()
        .values(*GROUP)
        .annotate(num=Count("pk", filter=denominator & numerator), den=Count("pk", filter=denominator))
    )


def _phq9s():
    return Measurement.objects.valid().filter(episode=OuterRef("pk"), instrument="PHQ9")


def open_between(first: datetime.date, last: datetime.date) -> Q:
    """Episodes open at some time from first to last."""
    return Q(enrolled_on__lte=last) & (Q(discharged_on__isnull=True) | Q(discharged_on__gte=first))


def open_on(day: datetime.date) -> Q:
    return Q(enrolled_on__lte=day) & (Q(discharged_on__isnull=True) | Q(discharged_on__gt=day))


def _outcome_counts(figures: Figures, episodes: QuerySet[Episode], period: Period, today: datetime.date) -> None:
    index = _phq9s().filter(total__gt=9).order_by("taken_on", "pk")
    indexed = episodes.exclude(EXCLUDED).annotate(
        index_on=Subquery(index.values("taken_on")[:1]), index_total=Subquery(index.values("total")[:1])
    )
    for point, days in OUTCOME_POINTS.items():
        low, high = days - WINDOW_DAYS, days + WINDOW_DAYS
        in_window = (
            _phq9s()
            .filter(
                taken_on__gte=AddDays(OuterRef("index_on"), Value(low)),
                taken_on__lte=AddDays(OuterRef("index_on"), Value(high)),
            )
            .order_by("-taken_on", "-pk")
        )
        scored = indexed.annotate(outcome=Subquery(in_window.values("total")[:1])).annotate(
            outcome_doubled=F("outcome") * 2
        )
        # Counted once the window has closed, so that a patient still inside it is not a failure.
        closed_by = min(period.end, today - datetime.timedelta(days=high))
        denominator = Q(index_on__gte=period.start, index_on__lte=closed_by)
        figures.add_counts(
            f"response_{point}",
            _counts(scored, denominator, Q(outcome__isnull=False, outcome_doubled__lte=F("index_total"))),
        )
        figures.add_counts(f"remission_{point}", _counts(scored, denominator, Q(outcome__lt=5)))


def _monthly_counts(figures: Figures, episodes: QuerySet[Episode], period: Period) -> None:
    contacts = Contact.objects.valid().filter(episode=OuterRef("pk"), reached=True)
    scores = Measurement.objects.valid().filter(episode=OuterRef("pk"))
    for first, last in period.months():
        annotated = episodes.annotate(
            contacted=Exists(contacts.filter(contact_date__range=(first, last))),
            scored=Exists(scores.filter(taken_on__range=(first, last))),
        )
        figures.add_counts(
            "contact_rate",
            _counts(annotated, open_between(first, last), Q(contacted=True, scored=True)),
            month=first.replace(day=1),
        )
    for first, last in period.thirds():
        annotated = episodes.annotate(
            contacted=Exists(contacts.filter(contact_date__range=(first, last))),
            phq9=Exists(_phq9s().filter(taken_on__range=(first, last))),
        )
        figures.add_counts("phq9_utilization", _counts(annotated, Q(contacted=True), Q(phq9=True)))


def _as_of(episodes: QuerySet[Episode], day: datetime.date) -> QuerySet[Episode]:
    """Baseline and latest PHQ-9 as they stood on `day`."""
    latest = _phq9s().filter(taken_on__lte=day).order_by("-taken_on", "-pk")
    return episodes.exclude(EXCLUDED).annotate(
        latest_then=Subquery(latest.values("total")[:1]),
        latest_doubled=F("latest_then") * 2,
    )


def improvement_counts(episodes: QuerySet[Episode], day: datetime.date):
    denominator = open_on(day) & Q(
        enrolled_on__lte=day - datetime.timedelta(days=IMPROVEMENT_AFTER_DAYS),
        phq9_baseline_on__lte=day,
        latest_then__isnull=False,
    )
    improved = Q(latest_then__lt=10) | Q(phq9_baseline__gt=0, latest_doubled__lte=F("phq9_baseline"))
    return _counts(_as_of(episodes, day), denominator, improved)


def _consultation_counts(episodes: QuerySet[Episode], day: datetime.date):
    reviewed = CaseReview.objects.filter(
        episode=OuterRef("pk"),
        signed_at__isnull=False,
        reviewed_on__range=(day - datetime.timedelta(days=CONSULTATION_WINDOW_DAYS), day),
    )
    annotated = _as_of(episodes, day).annotate(
        not_improving_from=AddDays(
            Coalesce("initial_assessment_on", "enrolled_on"), threshold("not_improving_after_days")
        ),
        reviewed=Exists(reviewed),
    )
    not_improving = open_on(day) & Q(
        not_improving_from__lte=day,
        phq9_baseline_on__lte=day,
        latest_then__gte=10,
        latest_doubled__gt=F("phq9_baseline"),
    )
    return _counts(annotated, not_improving, Q(reviewed=True))


def outcome_figures(episodes: QuerySet[Episode], period: Period, today: datetime.date) -> Figures:
    """The eight measures of MEASURES for the episodes in view."""
    figures = Figures()
    _outcome_counts(figures, episodes, period, today)
    _monthly_counts(figures, episodes, period)
    figures.add_counts("improvement_rate", improvement_counts(episodes, period.end))
    figures.add_counts("consultation_rate", _consultation_counts(episodes, period.end))
    return figures


@dataclass(frozen=True)
class FigureRow:
    clinic: object
    care_manager: object | None
    measure: str
    figure: Figure


def figure_rows(figures: Figures, clinics) -> list[FigureRow]:
    """Each clinic's total, then its care managers by username; each with every measure in order.

    Patients without a care manager count in their clinic's total only.
    """
    from accounts.models import User

    care_managers = User.objects.in_bulk({cm for _, cm in figures.groups() if cm is not None})
    rows = []
    for clinic in clinics:
        rows += [FigureRow(clinic, None, m, figures.total(m, clinic.pk)) for m in MEASURES]
        mine = sorted(
            (care_managers[cm] for c, cm in figures.groups() if c == clinic.pk and cm is not None),
            key=lambda user: user.username,
        )
        for user in mine:
            rows += [FigureRow(clinic, user, m, figures.of(m, clinic.pk, user.pk)) for m in MEASURES]
    return rows


CSV_HEADER = ["clinic", "care_manager", "measure", "numerator", "denominator", "rate"]


def csv_records(rows: list[FigureRow]) -> list[list]:
    return [
        [
            row.clinic.code,
            row.care_manager.username if row.care_manager else "",
            row.measure,
            row.figure.numerator,
            row.figure.denominator,
            row.figure.rate,
        ]
        for row in rows
    ]
