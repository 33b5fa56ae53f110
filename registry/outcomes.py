"""The figures a program is judged by (docs/clinical-definitions.md#quality-measures), per clinic
and care manager, for a period.

Every figure is a numerator over a denominator counted in SQL, grouped by clinic and care
manager (and by month or day for the monthly ones) in a fixed number of queries, so the report
makes the same queries whatever the number of patients. Clinic and overall totals are sums of the groups: each
episode belongs to exactly one clinic and at most one care manager (the patient's current one).
The unit is the episode of care (docs/clinical-definitions.md#conventions).
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Case, DateField, F, Q, QuerySet, Value, When
from django.db.models.functions import Cast, TruncMonth

from accounts.models import User
from carereg.lib.expressions import add_days_sql
from patients.models import Episode
from registry.caseload import month_bounds, whole_percent
from registry.definitions.depressed import depressed_q
from registry.definitions.improvement import improved_sql
from registry.definitions.not_improving import not_improving_from_expression, not_improving_sql
from registry.definitions.remission import remission_sql
from registry.definitions.response import response_sql
from registry.models import Contact, Measurement
from registry.reviews import case_reviews

WINDOW_DAYS = 60  # +/- around the 6- and 12-month points (NQF 1884/1885, 0710/0711)
OUTCOME_POINTS = {"6m": 180, "12m": 365}
IMPROVEMENT_AFTER_DAYS = 70
CONSULTATION_WINDOW_DAYS = 60

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

    def month_ends(self) -> list[datetime.date]:
        """The last day of each of months() (the period's last day for the last one)."""
        return [last for _, last in self.months()]

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

    def add(self, measure: str, clinic_id, care_manager_id, numerator: int, denominator: int, month=None) -> None:
        self.by_group[measure][(clinic_id, care_manager_id)].add(numerator, denominator)
        if month is not None:
            self.by_month[measure][month].add(numerator, denominator)

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


def open_between(first: datetime.date, last: datetime.date) -> Q:
    """Episodes open at some time from first to last."""
    return Q(enrolled_on__lte=last) & (Q(discharged_on__isnull=True) | Q(discharged_on__gte=first))


def open_on(day: datetime.date) -> Q:
    return Q(enrolled_on__lte=day) & (Q(discharged_on__isnull=True) | Q(discharged_on__gt=day))


# The figures are counted set-based, in SQL built around the episodes in view (compiled by the
# ORM, so that scoping and the "valid rows" rules keep one home): the PHQ-9s of those episodes
# are read once per query and ranked with window functions (the index score, the latest in a
# window, the latest on a day), then joined to the episodes and summed per clinic and care
# manager. Correlated subqueries per episode cost about 7 s of PostgreSQL CPU at 10,000 patients
# (each was repeated wherever the ORM referred to its annotation); this costs a few hundred ms
# (docs/benchmarks.md#outcomes-report). The monthly queries give every group of the episodes in
# view a row, counted or not, so that each care manager of the episodes appears in the report.


def _sql(queryset: QuerySet) -> tuple[str, list]:
    sql, params = queryset.query.sql_with_params()
    return sql, list(params)


def _date(day: datetime.date):
    """A date as a raw query's parameter (SQLite keeps dates as text)."""
    return connection.ops.adapt_datefield_value(day)


def _rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _constants(name: str, columns: str, rows: list[tuple]) -> tuple[str, list]:
    """A CTE of constant rows, e.g. months(lo, hi) AS (VALUES (%s, %s), ...)."""
    values = ", ".join("(" + ", ".join(["%s"] * len(row)) + ")" for row in rows)
    return f"{name}({columns}) AS (VALUES {values})", [_date(value) for row in rows for value in row]


def _scope(episodes: QuerySet[Episode], **columns) -> tuple[str, list]:
    """The episodes in view, one row each: eid, clinic, cm, and the columns asked for."""
    return _sql(
        episodes.order_by().values(
            eid=F("pk"), clinic=F("patient__clinic_id"), cm=F("patient__care_manager_id"), **columns
        )
    )


def _columns(rows: QuerySet, *columns: str, **expressions) -> tuple[str, list]:
    """The SQL of `rows` (valid measurements, contacts) with episode_id, `columns` and
    `expressions`. Not restricted to the episodes in view: the queries join them to those, and
    the planner, which cannot count a CTE's rows, would probe an index once per episode to
    restrict them first."""
    return _sql(rows.order_by().values("episode_id", *columns, **expressions))


PHQ9 = Q(instrument="PHQ9")


def _phq9s(**filters) -> QuerySet[Measurement]:
    return Measurement.objects.valid().filter(PHQ9, **filters)


def _when(condition: str) -> str:
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def _outcome_counts(figures: Figures, episodes: QuerySet[Episode], period: Period, today: datetime.date) -> None:
    """Response and remission at 6 and 12 months, in one query (docs/clinical-definitions.md)."""
    scope_sql, scope_params = _scope(episodes.exclude(EXCLUDED))
    above_9 = _phq9s().filter(depressed_q("total"))  # the index: docs/clinical-definitions.md#quality-measures
    in_period_sql, in_period_params = _columns(
        above_9.filter(taken_on__range=(period.start, period.end)), "taken_on", "total", "id"
    )
    earlier_sql, earlier_params = _columns(above_9.filter(taken_on__lt=period.start))
    phq9_sql, phq9_params = _columns(_phq9s(), "taken_on", "total", "id")
    ctes, cte_params, sums, sum_params = [], [], [], []
    for point, days in OUTCOME_POINTS.items():
        low, high = days - WINDOW_DAYS, days + WINDOW_DAYS
        # The window's latest PHQ-9 (latest day, then latest entered), for each indexed episode.
        ctes.append(
            f"out_{point} AS (SELECT episode_id, total FROM (SELECT p.episode_id, p.total, ROW_NUMBER() OVER "
            "(PARTITION BY p.episode_id ORDER BY p.taken_on DESC, p.id DESC) AS n "
            f"FROM idx JOIN ({phq9_sql}) p ON p.episode_id = idx.episode_id "
            f"AND p.taken_on >= {add_days_sql('idx.index_on', low)} "
            f"AND p.taken_on <= {add_days_sql('idx.index_on', high)}) ranked WHERE n = 1)"
        )
        cte_params += phq9_params
        # Counted once the window has closed, so that a patient still inside it is not a failure.
        closed_by = _date(min(period.end, today - datetime.timedelta(days=high)))
        counted = "idx.index_on <= %s"
        sums += [
            _when(f"{counted} AND {response_sql('idx.index_total', f'out_{point}.total')}"),
            _when(f"{counted} AND {remission_sql(f'out_{point}.total')}"),
            _when(counted),
        ]
        sum_params += [closed_by] * 3
    joins = " ".join(f"LEFT JOIN out_{point} ON out_{point}.episode_id = s.eid" for point in OUTCOME_POINTS)
    sql = (
        f"WITH scope AS ({scope_sql}), in_period AS ({in_period_sql}), "
        # The index: the episode's first PHQ-9 above 9 (earliest day, then first entered), when it
        # falls in the period: the earliest day in the period by a hashed MIN, none above 9 before
        # it, and only that day's PHQ-9s ranked for the tie.
        "firsts AS (SELECT episode_id, MIN(taken_on) AS index_on FROM in_period GROUP BY episode_id), "
        "idx AS (SELECT episode_id, index_on, index_total FROM (SELECT f.episode_id, f.index_on, "
        "a.total AS index_total, ROW_NUMBER() OVER (PARTITION BY f.episode_id ORDER BY a.id) AS n "
        "FROM firsts f JOIN in_period a ON a.episode_id = f.episode_id AND a.taken_on = f.index_on "
        f"WHERE NOT EXISTS (SELECT 1 FROM ({earlier_sql}) e WHERE e.episode_id = f.episode_id)) ties "
        "WHERE n = 1), " + ", ".join(ctes) + f" SELECT s.clinic, s.cm, {', '.join(sums)} FROM scope s "
        f"LEFT JOIN idx ON idx.episode_id = s.eid {joins} GROUP BY s.clinic, s.cm"
    )
    rows = _rows(sql, scope_params + in_period_params + earlier_params + cte_params + sum_params)
    for clinic, cm, *counts in rows:
        for i, point in enumerate(OUTCOME_POINTS):
            response, remission, counted = counts[3 * i : 3 * i + 3]
            figures.add(f"response_{point}", clinic, cm, response, counted)
            figures.add(f"remission_{point}", clinic, cm, remission, counted)


def _span_months(spans: list[tuple]) -> list[tuple]:
    """(first day of the month, lo) for each calendar month of each span (lo, hi). The spans
    (months or four-month periods, clipped to the period) cover it without gap or overlap, so
    a row dated in them belongs to the span of its calendar month."""
    rows = []
    for lo, hi in spans:
        month = lo.replace(day=1)
        while month <= hi:
            rows.append((month, lo))
            month = month_bounds(month)[1] + datetime.timedelta(days=1)
    return rows


def _by_month(rows: QuerySet, day_column: str, period: Period, **expressions) -> tuple[str, list]:
    """The SQL of `rows` (valid contacts, scores) dated in the period: episode_id, the first day
    of the calendar month (a date on every database: PostgreSQL's DATE_TRUNC gives a timestamp)
    and `expressions`. Rows are matched to a month or four-month period by a hashed join on the
    calendar month, where a join on `lo <= day <= hi` tested every row against every span (a
    third of the report's time at 100,000 patients)."""
    in_period = rows.filter(**{f"{day_column}__range": (period.start, period.end)})
    return _columns(in_period, month=Cast(TruncMonth(day_column), DateField()), **expressions)


def _monthly_counts(figures: Figures, episodes: QuerySet[Episode], period: Period) -> None:
    """The contact rate (per month, over the episodes open in it: those with a completed contact
    and a score in it) and PHQ-9 utilization (per four-month period, over the episodes with a
    completed contact in it: those with a PHQ-9 in it), in one query: the period's contacts and
    scores are read once, as distinct (episode, month) pairs, and the episodes in view once; apart,
    each of the two figures read all three again (a quarter of the report each at 100,000 patients)."""
    months = [(lo.replace(day=1), lo, hi) for lo, hi in period.months()]
    scope_sql, scope_params = _scope(episodes, enrolled=F("enrolled_on"), discharged=F("discharged_on"))
    months_sql, months_params = _constants("months", "month, lo, hi", months)
    thirds_sql, thirds_params = _constants("thirds", "month, lo", _span_months(period.thirds()))
    contacts_sql, contacts_params = _by_month(Contact.objects.valid().filter(reached=True), "contact_date", period)
    scores_sql, scores_params = _by_month(
        Measurement.objects.valid(), "taken_on", period, phq9=Case(When(PHQ9, then=Value(1)), default=Value(0))
    )
    sql = (
        f"WITH scope AS ({scope_sql}), {months_sql}, {thirds_sql}, "
        f"contacted AS (SELECT DISTINCT episode_id, month FROM ({contacts_sql}) r), "
        f"scored AS (SELECT episode_id, month, MAX(phq9) AS phq9 FROM ({scores_sql}) r GROUP BY episode_id, month), "
        "contacted_in_third AS (SELECT DISTINCT c.episode_id, t.lo FROM contacted c "
        "JOIN thirds t ON t.month = c.month), "
        "phq9_in_third AS (SELECT DISTINCT sc.episode_id, t.lo FROM scored sc JOIN thirds t ON t.month = sc.month "
        "WHERE sc.phq9 = 1) "
        "SELECT 'contact_rate', m.month, s.clinic, s.cm, COUNT(sc.episode_id), COUNT(m.month) FROM scope s "
        "LEFT JOIN months m ON s.enrolled <= m.hi AND (s.discharged IS NULL OR s.discharged >= m.lo) "
        "LEFT JOIN contacted c ON c.episode_id = s.eid AND c.month = m.month "
        "LEFT JOIN scored sc ON sc.episode_id = c.episode_id AND sc.month = c.month "
        "GROUP BY m.month, s.clinic, s.cm "
        "UNION ALL SELECT 'phq9_utilization', c.lo, s.clinic, s.cm, COUNT(p.episode_id), COUNT(c.lo) FROM scope s "
        "LEFT JOIN contacted_in_third c ON c.episode_id = s.eid "
        "LEFT JOIN phq9_in_third p ON p.episode_id = c.episode_id AND p.lo = c.lo "
        "GROUP BY c.lo, s.clinic, s.cm"
    )
    params = scope_params + months_params + thirds_params + contacts_params + scores_params
    month_of = {_date(month): month for month, _, _ in months}
    for measure, month, clinic, cm, num, den in _rows(sql, params):
        if measure == "contact_rate":
            figures.add(measure, clinic, cm, num, den, month=month_of.get(month))
        else:
            figures.add(measure, clinic, cm, num, den)


def _latest_on_days(days: list[datetime.date]) -> tuple[str, list]:
    """CTEs `days(d, enrolled_by)` and `latest`: each PHQ-9 with the day the next one was taken
    (LEAD, in the order of day then entry), so that the latest on day d (latest day, then latest
    entered) is the one taken by d whose next one, if any, was taken after d: one per episode and day."""
    phq9_sql, phq9_params = _columns(_phq9s(taken_on__lte=max(days)), "taken_on", "total", "id")
    days_sql, days_params = _constants(
        "days", "d, enrolled_by", [(day, day - datetime.timedelta(days=IMPROVEMENT_AFTER_DAYS)) for day in days]
    )
    sql = (
        f"{days_sql}, latest AS (SELECT episode_id, total, taken_on, next_on FROM (SELECT episode_id, total, "
        "taken_on, LEAD(taken_on) OVER (PARTITION BY episode_id ORDER BY taken_on, id) AS next_on "
        f"FROM ({phq9_sql}) p) ordered WHERE next_on IS NULL OR next_on > %s)"
    )
    return sql, days_params + phq9_params + [_date(min(days))]


LATEST_ON_DAY = "l.episode_id = s.eid AND l.taken_on <= days.d AND (l.next_on IS NULL OR l.next_on > days.d)"
OPEN_ON_DAY = "s.enrolled <= days.d AND (s.discharged IS NULL OR s.discharged > days.d)"


def improvement_counts(episodes: QuerySet[Episode], days: list[datetime.date]) -> list[tuple]:
    """Per day and group (day, clinic, care manager, improved, counted): the improvement rate
    on each of `days`, with the latest PHQ-9 as it stood on that day."""
    scope_sql, scope_params = _scope(
        episodes.exclude(EXCLUDED),
        enrolled=F("enrolled_on"),
        discharged=F("discharged_on"),
        baseline=F("phq9_baseline"),
        baseline_on=F("phq9_baseline_on"),
    )
    latest_sql, latest_params = _latest_on_days(days)
    # Joined, not counted by CASE: only the episodes open and with a PHQ-9 on a day make rows.
    counted = f"{OPEN_ON_DAY} AND s.enrolled <= days.enrolled_by AND s.baseline_on <= days.d"
    improved = improved_sql("s.baseline", "l.total")
    sql = (
        f"WITH scope AS ({scope_sql}), {latest_sql} "
        f"SELECT days.d, s.clinic, s.cm, {_when(improved)}, COUNT(*) "
        f"FROM scope s JOIN days ON {counted} JOIN latest l ON {LATEST_ON_DAY} GROUP BY days.d, s.clinic, s.cm"
    )
    as_given = {_date(day): day for day in days}  # SQLite gives the day back as text
    return [(as_given[day], *counts) for day, *counts in _rows(sql, scope_params + latest_params)]


def _consultation_counts(figures: Figures, episodes: QuerySet[Episode], day: datetime.date) -> None:
    reviewed = (
        case_reviews()
        .signed()
        .filter(
            reviewed_on__range=(day - datetime.timedelta(days=CONSULTATION_WINDOW_DAYS), day),
        )
    )
    reviewed_sql, reviewed_params = _sql(reviewed.order_by().values("episode_id"))
    scope_sql, scope_params = _scope(
        episodes.exclude(EXCLUDED),
        enrolled=F("enrolled_on"),
        discharged=F("discharged_on"),
        baseline=F("phq9_baseline"),
        baseline_on=F("phq9_baseline_on"),
        not_improving_from=not_improving_from_expression(),
    )
    latest_sql, latest_params = _latest_on_days([day])
    # Joined, not counted by CASE: only the episodes not improving on the day make rows.
    not_improving = f"{OPEN_ON_DAY} AND s.baseline_on <= days.d AND {LATEST_ON_DAY} AND " + not_improving_sql(
        on="days.d", mark="s.not_improving_from", baseline="s.baseline", latest="l.total"
    )
    sql = (
        f"WITH scope AS ({scope_sql}), {latest_sql} SELECT s.clinic, s.cm, "
        f"{_when(f's.eid IN ({reviewed_sql})')}, COUNT(*) "
        f"FROM scope s CROSS JOIN days JOIN latest l ON {not_improving} GROUP BY s.clinic, s.cm"
    )
    for clinic, cm, num, den in _rows(sql, scope_params + latest_params + reviewed_params):
        figures.add("consultation_rate", clinic, cm, num, den)


def outcome_figures(
    episodes: QuerySet[Episode], period: Period, today: datetime.date, improvement: list[tuple] | None = None
) -> Figures:
    """The eight measures of MEASURES for the episodes in view. `improvement`: the rows of
    improvement_counts for days that include the period's last day, when the caller has them
    (the report's trend counts every month's end), so that they are not counted twice."""
    figures = Figures()
    _outcome_counts(figures, episodes, period, today)
    _monthly_counts(figures, episodes, period)
    if improvement is None:
        improvement = improvement_counts(episodes, [period.end])
    for day, clinic, cm, num, den in improvement:
        if day == period.end:
            figures.add("improvement_rate", clinic, cm, num, den)
    _consultation_counts(figures, episodes, period.end)
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
