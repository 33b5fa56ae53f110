"""The caseload dashboard's query: one row per open episode with the AIMS registry columns.

Sorting, filtering and the statistics are done in SQL over the episode summary columns, so a
page costs the same handful of queries for five patients or ten thousand.
"""

import datetime
from dataclasses import dataclass

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Floor

from carereg.lib.expressions import AddDays
from patients.models import Episode
from registry.billing import billable_minutes
from registry.models import Flag
from registry.summaries import SUMMARY_FIELDS
from registry.thresholds import threshold


def percent_change_sql(instrument: str):
    """(baseline - latest) / baseline in whole percent, rounded half up; NULL when baseline is 0 or missing.

    The same arithmetic as registry.scoring.percent_change, so sorted order and shown figure agree.
    """
    baseline, latest = F(f"{instrument}_baseline"), F(f"{instrument}_latest")
    numerator = Cast((baseline - latest) * 200 + baseline, FloatField())
    denominator = Cast(baseline * 2, FloatField())
    return Case(
        When(
            **{f"{instrument}_baseline__gt": 0, f"{instrument}_latest__isnull": False},
            then=Cast(Floor(numerator / denominator), IntegerField()),
        ),
        default=None,
        output_field=IntegerField(),
    )


def whole_percent(numerator: int, denominator: int) -> int | None:
    """numerator / denominator in whole percent, rounded half up (12.5% shows 13%); None for 0/0."""
    return (200 * numerator + denominator) // (2 * denominator) if denominator else None


def month_bounds(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    start = today.replace(day=1)
    next_month = (start + datetime.timedelta(days=32)).replace(day=1)
    return start, next_month - datetime.timedelta(days=1)


def _flag_rank():
    ranks = [When(kind=kind, then=Value(rank)) for rank, kind in enumerate(Flag.PRIORITY)]
    open_flags = Flag.objects.filter(episode=OuterRef("pk"), resolved_at__isnull=True)
    ranked = open_flags.annotate(rank=Case(*ranks, output_field=IntegerField())).order_by("rank")
    return Subquery(ranked.values("rank")[:1], output_field=IntegerField())


def with_registry_columns(episodes: QuerySet[Episode], today: datetime.date) -> QuerySet[Episode]:
    # Follow-up cadence by status, from the clinic's settings (docs/clinical-definitions.md#follow-up-cadence).
    cadence = Case(
        When(status=Episode.Status.RELAPSE_PREVENTION, then=threshold("relapse_prevention_cadence_days")),
        default=threshold("active_cadence_days"),
        output_field=IntegerField(),
    )
    return episodes.annotate(
        initial_assessment=Coalesce(F("initial_assessment_on"), F("enrolled_on")),
        next_contact_due=Coalesce(F("next_contact_on"), AddDays(F("last_contact_on"), cadence)),
        phq9_change=percent_change_sql("phq9"),
        gad7_change=percent_change_sql("gad7"),
        # The billing rule's minutes (from the consent date, overlaps once):
        # docs/clinical-definitions.md#cocm-billing-time.
        minutes_this_month=billable_minutes(*month_bounds(today)),
        top_flag_rank=_flag_rank(),
        status_rank=Case(
            *[When(status=status, then=Value(rank)) for rank, status in enumerate(Episode.Status)],
            output_field=IntegerField(),
        ),
    )


# Column key -> the expression it sorts by. "weeks" sorts by initial assessment, reversed.
SORTS = {
    "flags": ["top_flag_rank"],
    "mrn": ["patient__mrn"],
    "name": ["patient__last_name", "patient__first_name"],
    "status": ["status_rank"],  # lifecycle order, not alphabetical
    "enrolled": ["enrolled_on"],
    "initial_assessment": ["initial_assessment"],
    "last_contact": ["last_contact_on"],
    "contacts": ["completed_contacts"],
    "weeks": ["-initial_assessment"],
    "next_due": ["next_contact_due"],
    "phq9_baseline": ["phq9_baseline"],
    "phq9_latest": ["phq9_latest"],
    "phq9_change": ["phq9_change"],
    "gad7_baseline": ["gad7_baseline"],
    "gad7_latest": ["gad7_latest"],
    "gad7_change": ["gad7_change"],
    "minutes": ["minutes_this_month"],
    "last_review": ["last_case_review_on"],
    "open_recs": ["open_recommendations"],
}
DEFAULT_SORT = "flags"


def order_by_column(episodes: QuerySet[Episode], sort: str) -> QuerySet[Episode]:
    """Sort by a column key, '-' first for descending; empty values last either way."""
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in SORTS:
        key, descending = DEFAULT_SORT, False
    ordering = []
    for field in SORTS[key]:
        reverse = field.startswith("-") != descending
        expression = F(field.lstrip("-"))
        ordering.append(expression.desc(nulls_last=True) if reverse else expression.asc(nulls_last=True))
    # Ties among flags: the soonest due first. Elsewhere a plain stable order: ordering every
    # row by the computed due date costs a third of the page's SQL time at 10,000 patients.
    if key == "flags":
        ordering.append(F("next_contact_due").asc(nulls_last=True))
    ordering.append(F("pk").asc())
    return episodes.order_by(*ordering)


# Whose patients "my caseload" means, by role.
MY_PATIENTS_FIELD = {
    "care_manager": "patient__care_manager",
    "psychiatric_consultant": "patient__psychiatric_consultant",
    "medical_provider": "patient__pcp",
}


UNASSIGNED = "unassigned"


def scope_to_team(episodes: QuerySet[Episode], user, team: str) -> QuerySet[Episode]:
    """team: "mine" (by the user's role), "all", "unassigned" (no care manager), or a care manager's id."""
    if team == "mine" and user.role in MY_PATIENTS_FIELD:
        return episodes.filter(**{MY_PATIENTS_FIELD[user.role]: user})
    if team == UNASSIGNED:
        return episodes.filter(patient__care_manager__isnull=True)
    if team.isdigit():
        return episodes.filter(patient__care_manager_id=int(team))
    return episodes


@dataclass(frozen=True)
class CaseloadFilter:
    """Narrowing within the chosen caseload; the statistics ignore it. A patient with an open
    flag of any of the chosen kinds matches the flag filter."""

    status: str = ""
    flags: tuple[str, ...] = ()
    search: str = ""

    @property
    def narrows(self) -> bool:
        return bool(self.status or self.flags or self.search)

    def apply(self, episodes: QuerySet[Episode]) -> QuerySet[Episode]:
        if self.status:
            episodes = episodes.filter(status=self.status)
        if self.flags:
            open_flags = Flag.objects.filter(episode=OuterRef("pk"), resolved_at__isnull=True, kind__in=self.flags)
            episodes = episodes.filter(Exists(open_flags))
        if self.search:
            episodes = episodes.filter(search_q(self.search))
        return episodes


def search_q(text: str) -> Q:
    """Every word typed matches the first or last name (anywhere in it) or the start of the MRN.
    Commas are spaces, so "Sanchez, Hoa" (as the app writes names) finds what "Hoa Sanchez" does."""
    query = Q()
    for word in text.replace(",", " ").split():
        query &= (
            Q(patient__mrn__istartswith=word)
            | Q(patient__first_name__icontains=word)
            | Q(patient__last_name__icontains=word)
        )
    return query


# The episode's own columns the rows show: its status and enrollment, and every summary column.
ROW_EPISODE_FIELDS = ["status", "enrolled_on", *SUMMARY_FIELDS]
ROW_PATIENT_FIELDS = [
    "patient__mrn",
    "patient__first_name",
    "patient__last_name",
    "patient__phone",
    "patient__care_manager",
]
ROW_CARE_MANAGER_FIELDS = [f"patient__care_manager__{name}" for name in ("username", "first_name", "last_name")]


def caseload_rows(open_episodes: QuerySet[Episode], today: datetime.date, sort: str) -> QuerySet[Episode]:
    rows = with_registry_columns(open_episodes, today).select_related("patient", "patient__care_manager")
    # Only the columns the rows show: fifty full patient and user rows (password hashes included)
    # would be read and built for nothing.
    rows = rows.only(*ROW_EPISODE_FIELDS, *ROW_PATIENT_FIELDS, *ROW_CARE_MANAGER_FIELDS)
    rows = rows.prefetch_related(
        Prefetch("flags", queryset=Flag.objects.filter(resolved_at__isnull=True), to_attr="open_flags")
    )
    return order_by_column(rows, sort)


def due_today(open_episodes: QuerySet[Episode], today: datetime.date) -> QuerySet[Episode]:
    """Who is due or overdue for a contact today, in the order to call them: a patient with a
    safety flag first, then the longest overdue, then by name. A patient never contacted is due
    from enrollment."""
    rows = caseload_rows(open_episodes, today, DEFAULT_SORT)
    rows = rows.annotate(due_on=Coalesce("next_contact_due", "enrolled_on")).filter(due_on__lte=today)
    safety = Flag.PRIORITY.index(Flag.Kind.SAFETY)
    safety_first = Case(When(top_flag_rank=safety, then=Value(0)), default=Value(1), output_field=IntegerField())
    return rows.order_by(safety_first, "due_on", "patient__last_name", "patient__first_name", "pk")


def caseload_aggregates(today: datetime.date) -> dict:
    """The caseload statistics as aggregates over open episodes, each defined in
    docs/clinical-definitions.md#caseload-statistics."""
    month_start, _ = month_bounds(today)
    followed_phq9 = Q(phq9_baseline__gte=10, phq9_latest_on__gt=F("phq9_baseline_on"))
    return {
        "active": Count("pk"),
        "contacted_this_month": Count("pk", filter=Q(last_contact_on__gte=month_start)),
        "with_followup_score": Count(
            "pk",
            filter=Q(phq9_latest_on__gt=F("phq9_baseline_on")) | Q(gad7_latest_on__gt=F("gad7_baseline_on")),
        ),
        "followed_depressed": Count("pk", filter=followed_phq9),
        "response": Count(
            "pk", filter=followed_phq9 & Q(phq9_baseline__lte=(F("phq9_baseline") - F("phq9_latest")) * 2)
        ),
        "remission": Count("pk", filter=followed_phq9 & Q(phq9_latest__lt=5)),
    }


def with_caseload_percentages(figures: dict) -> dict:
    active = figures["active"]
    return {
        **figures,
        "contacted_pct": whole_percent(figures["contacted_this_month"], active),
        "followup_score_pct": whole_percent(figures["with_followup_score"], active),
    }
