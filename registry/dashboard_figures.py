"""The dashboard's figure cards: the caseload statistics and the case-review figures, counted
in one aggregate query over the caseload (one pass over its open episodes, not three)."""

import datetime
import functools
from dataclasses import dataclass

from django.db.models import Count, QuerySet, Sum

from accounts.models import Role, User
from carereg.lib.statements import KeptStatements
from patients.models import Episode
from registry.caseload import caseload_aggregates, with_caseload_percentages
from registry.caseload_size import CaseloadSize, caseload_sizes
from registry.models import Flag
from registry.reviews import case_reviews


def dashboard_figures(
    open_episodes: QuerySet[Episode], today: datetime.date, compiled: tuple[str, tuple] | None = None
) -> tuple[dict, dict]:
    """(caseload statistics, review figures) of these open episodes (`compiled`: their query's SQL
    and parameters, when the caller has them already).

    The open recommendations are summed from the episode summary column that the rows show,
    which counts the open recommendations of signed notes, as the case-review figures do.
    """
    provided = case_reviews()
    stats, reviews = _figure_names(provided)
    figures = _counted(open_episodes, today, provided, compiled or _compiled(open_episodes))
    review_figures = provided.with_figure_percentages({name: figures[name] for name in reviews})
    review_figures["open_recommendations"] = figures["open_recommendations"]
    return with_caseload_percentages({name: figures[name] for name in stats}), review_figures


@functools.cache
def _figure_names(provided) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The names of the caseload statistics and of the review counts (the same on any day)."""
    any_day = datetime.date(2000, 1, 1)
    return tuple(caseload_aggregates(any_day)), tuple(provided.figure_counts(any_day))


# The figures' aggregate as PostgreSQL last received it, by the caseload's own SQL and the day.
_FIGURES_STATEMENTS = KeptStatements()


def _compiled(episodes: QuerySet[Episode]) -> tuple[str, tuple]:
    sql, params = episodes.query.sql_with_params()
    return sql, tuple(params)


def _counted(open_episodes: QuerySet[Episode], today: datetime.date, provided, compiled: tuple[str, tuple]) -> dict:
    """The figures' aggregate, built and compiled by the ORM once per caseload and day in this
    process (that took more CPU than the database spends counting), then sent as it was written.
    Its text and parameters depend only on the caseload's query, the day and the provider."""
    key = (open_episodes.db, *compiled, today, provided)

    def through_orm() -> dict:
        stats, reviews = caseload_aggregates(today), provided.figure_counts(today)
        return provided.with_figure_columns(open_episodes.order_by(), today).aggregate(
            **stats, **reviews, open_recommendations=Sum("open_recommendations", default=0)
        )

    counted, row = _FIGURES_STATEMENTS.first_row(key, open_episodes.db, through_orm)
    return counted if row is None else {name: int(value) for name, value in row.items()}


# The flags a program overview counts per care manager, most urgent first.
OVERVIEW_FLAGS = [Flag.Kind.SAFETY, Flag.Kind.NOT_IMPROVING, Flag.Kind.NEW_PATIENT, Flag.Kind.FOLLOWUP_OVERDUE]


@dataclass(frozen=True)
class CareManagerOverview:
    size: CaseloadSize
    flags: list[tuple[str, int]]  # (flag kind, open flags of that kind on the caseload)


def care_manager_overview(user, episodes: QuerySet[Episode]) -> list[CareManagerOverview]:
    """Each care manager of the user's clinics: caseload against the AIMS range, and their
    caseload's open flags by kind. Four queries, however many care managers."""
    care_managers = User.objects.filter(role=Role.CARE_MANAGER, is_active=True, clinics__in=user.visible_clinics())
    sizes = caseload_sizes(care_managers.distinct(), episodes)
    counts = (
        Flag.objects.filter(resolved_at__isnull=True, kind__in=OVERVIEW_FLAGS, episode__in=episodes.open())
        .order_by()
        .values_list("episode__patient__care_manager", "kind")
        .annotate(n=Count("pk"))
    )
    by_manager: dict[int, dict[str, int]] = {}
    for manager_id, kind, n in counts:
        by_manager.setdefault(manager_id, {})[kind] = n
    return [
        CareManagerOverview(
            size, [(kind, by_manager.get(size.care_manager.pk, {}).get(kind, 0)) for kind in OVERVIEW_FLAGS]
        )
        for size in sizes
    ]
