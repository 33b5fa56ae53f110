"""The dashboard's figure cards: the caseload statistics and the case-review figures, counted
in one aggregate query over the caseload (one pass over its open episodes, not three)."""

import datetime

from django.db.models import QuerySet, Sum

from consults.figures import review_counts, with_review_columns, with_review_percentages
from patients.models import Episode
from registry.caseload import caseload_aggregates, with_caseload_percentages


def dashboard_figures(open_episodes: QuerySet[Episode], today: datetime.date) -> tuple[dict, dict]:
    """(caseload statistics, review figures) of these open episodes.

    The open recommendations are summed from the episode summary column that the rows show,
    which counts the open recommendations of signed notes, as consults.figures does.
    """
    stats, reviews = caseload_aggregates(today), review_counts(today)
    figures = with_review_columns(open_episodes.order_by(), today).aggregate(
        **stats, **reviews, open_recommendations=Sum("open_recommendations", default=0)
    )
    review_figures = with_review_percentages({name: figures[name] for name in reviews})
    review_figures["open_recommendations"] = figures["open_recommendations"]
    return with_caseload_percentages({name: figures[name] for name in stats}), review_figures
