"""CoCM billing time (docs/clinical-definitions.md#cocm-billing-time): minutes per episode per
calendar month, and the month's codes.

The rules are pure functions of (minutes, first month or not). The minutes come from one SQL
expression, `billable_minutes`, used by the dashboard's "minutes this month", the billing
report and `manage.py billing_report`, so that all three always agree:

- care manager minutes of the episode's contacts not entered in error, reached or not
  (CMS counts outreach and care coordination time of the care manager);
- only contacts dated on or after the consent (enrollment) date;
- overlapping entries count once: a contact with a time covers [start, start + minutes) and
  the intervals of one episode's day are united; a contact without a time cannot be placed
  and counts in full.

Month one of an episode is the calendar month that holds its consent date.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import F, IntegerField, Max, OuterRef, QuerySet, RowRange, Subquery, Window
from django.db.models.functions import Cast, ExtractHour, ExtractMinute

from patients.models import Episode
from registry.models import Contact

# (base code, its threshold, first add-on threshold) by month one or later
# (docs/clinical-definitions.md#cocm-billing-time).
FIRST_MONTH = ("99492", 36, 86)
LATER_MONTH = ("99493", 31, 76)
ADD_ON = "99494"
ADD_ON_STEP = 30  # each further 30 minutes is one more add-on unit
G2214 = ("G2214", 16)
CODES = [FIRST_MONTH[0], LATER_MONTH[0], ADD_ON, G2214[0]]


def billing_codes(minutes: int, *, first_month: bool) -> list[tuple[str, int]]:
    """The month's codes with their units, e.g. [("99492", 1), ("99494", 2)]; [] when nothing is billable."""
    base, threshold, first_add_on = FIRST_MONTH if first_month else LATER_MONTH
    if minutes >= threshold:
        codes = [(base, 1)]
        if minutes >= first_add_on:
            codes.append((ADD_ON, 1 + (minutes - first_add_on) // ADD_ON_STEP))
        return codes
    if minutes >= G2214[1]:
        return [(G2214[0], 1)]
    return []


def format_codes(codes: Iterable[tuple[str, int]]) -> str:
    """`99492;99494x2`: codes separated by `;`, a unit count after `x` only when more than one."""
    return ";".join(code if units == 1 else f"{code}x{units}" for code, units in codes)


def next_target(minutes: int, *, first_month: bool) -> tuple[int, str]:
    """The threshold the month is working toward, and what it earns: the base code's, then each add-on's."""
    base, threshold, first_add_on = FIRST_MONTH if first_month else LATER_MONTH
    if minutes < threshold:
        return threshold, base
    units_reached = 0 if minutes < first_add_on else 1 + (minutes - first_add_on) // ADD_ON_STEP
    return first_add_on + units_reached * ADD_ON_STEP, ADD_ON


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def month_end(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)


def episode_month(enrolled_on: datetime.date, month: datetime.date) -> int:
    """1 for the calendar month holding the consent date, 2 for the next, and so on."""
    return (month.year - enrolled_on.year) * 12 + month.month - enrolled_on.month + 1


def united_minutes(contacts: Iterable[tuple[datetime.date, datetime.time | None, int]]) -> int:
    """Reference implementation of the minute count in Python: (date, time or None, minutes) per contact."""
    total = 0
    by_day: dict[datetime.date, list[tuple[int, int]]] = {}
    for day, time, minutes in contacts:
        if time is None:
            total += minutes
        else:
            start = time.hour * 60 + time.minute
            by_day.setdefault(day, []).append((start, start + minutes))
    for intervals in by_day.values():
        covered_to = None
        for start, end in sorted(intervals):
            if covered_to is None or start >= covered_to:
                total += end - start
                covered_to = end
            elif end > covered_to:
                total += end - covered_to
                covered_to = end
    return total


class _UnitedMinutes(Subquery):
    """Sum each contact's new minutes over its window-annotated rows.

    SQL allows no window function inside an aggregate, so the rows (with the window computed
    once per row) are a derived table and the CASE is written here, in SQL both databases
    read alike: untimed contacts count in full; a timed one counts what lies past the
    furthest end of the same day's earlier intervals.
    """

    template = (
        "(SELECT CAST(COALESCE(SUM(CASE"
        " WHEN billing_rows.starts IS NULL OR billing_rows.covered_to IS NULL"
        " OR billing_rows.covered_to <= billing_rows.starts THEN billing_rows.minutes"
        " WHEN billing_rows.covered_to >= billing_rows.ends THEN 0"
        " ELSE billing_rows.ends - billing_rows.covered_to END), 0) AS integer)"
        " FROM (%(subquery)s) billing_rows)"
    )
    output_field = IntegerField()


def _minute_of_day(field: str):
    return Cast(ExtractHour(field), IntegerField()) * 60 + Cast(ExtractMinute(field), IntegerField())


def billable_minutes(first_day: datetime.date, last_day: datetime.date) -> Subquery:
    """An Episode annotation: the minutes that count for billing between two dates (inclusive).

    Each timed contact counts the part of its interval that starts after the furthest end of
    the same day's earlier intervals (a running MAX over a window), which sums to the union.
    """
    contacts = (
        Contact.objects.valid()
        .filter(
            episode=OuterRef("pk"),
            contact_date__range=(first_day, last_day),
            contact_date__gte=OuterRef("enrolled_on"),
        )
        .order_by()
        .annotate(starts=_minute_of_day("contact_time"))
        .annotate(ends=F("starts") + F("minutes"))
        .annotate(
            covered_to=Window(
                Max("ends"),
                partition_by=[F("contact_date")],
                order_by=[F("starts").asc(), F("pk").asc()],
                frame=RowRange(start=None, end=-1),
            )
        )
        .values("starts", "ends", "covered_to", "minutes")
    )
    return _UnitedMinutes(contacts)


@dataclass(frozen=True)
class BillingRow:
    episode: Episode
    episode_month: int
    minutes: int
    codes: list[tuple[str, int]]

    @property
    def codes_text(self) -> str:
        return format_codes(self.codes)

    @property
    def patient(self):
        return self.episode.patient

    @property
    def target(self) -> tuple[int, str]:
        return next_target(self.minutes, first_month=self.episode_month == 1)


def episodes_in_month(episodes: QuerySet[Episode], month: datetime.date) -> QuerySet[Episode]:
    """Episodes open at any time in the month (enrolled by its end, not discharged before its start)."""
    first, last = month_start(month), month_end(month)
    return episodes.filter(enrolled_on__lte=last).exclude(discharged_on__lt=first)


# What a row shows: loading whole users (and patients) for thousands of rows costs more than the SQL.
ROW_FIELDS = [
    "enrolled_on",
    "patient__mrn",
    "patient__first_name",
    "patient__last_name",
    "patient__clinic__code",
    "patient__care_manager__username",
    "patient__care_manager__first_name",
    "patient__care_manager__last_name",
]


def billing_rows(episodes: QuerySet[Episode], month: datetime.date) -> list[BillingRow]:
    """One row per episode open in the month, with its minutes and codes: a single query."""
    first, last = month_start(month), month_end(month)
    rows = (
        episodes_in_month(episodes, month)
        .annotate(billing_minutes=billable_minutes(first, last))
        .select_related("patient", "patient__clinic", "patient__care_manager")
        .only(*ROW_FIELDS)
        .order_by("patient__clinic__code", "patient__mrn", "enrolled_on", "pk")
    )
    result = []
    for episode in rows:
        number = episode_month(episode.enrolled_on, first)
        minutes = episode.billing_minutes
        result.append(BillingRow(episode, number, minutes, billing_codes(minutes, first_month=number == 1)))
    return result


def code_totals(rows: Iterable[BillingRow]) -> dict[str, int]:
    """Units of each code over the rows, every code listed (0 when none)."""
    totals = dict.fromkeys(CODES, 0)
    for row in rows:
        for code, units in row.codes:
            totals[code] += units
    return totals


CSV_COLUMNS = ["mrn", "clinic", "care_manager", "episode_month", "minutes", "codes"]


def csv_values(row: BillingRow) -> list:
    patient = row.patient
    return [
        patient.mrn,
        patient.clinic.code,
        patient.care_manager.username if patient.care_manager else "",
        row.episode_month,
        row.minutes,
        row.codes_text,
    ]
