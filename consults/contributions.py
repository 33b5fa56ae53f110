"""What the consults app adds to the apps below it (docs/architecture.md#layering), registered when
Django is ready (consults/apps.py)."""

from consults.agenda import put_on_next_agenda
from consults.figures import review_counts, with_review_columns, with_review_percentages
from consults.models import CaseReview, Recommendation
from consults.notifications import notify_consultant_of_safety
from registry.reviews import CaseReviews, provide

provide(
    CaseReviews(
        signed=lambda: CaseReview.objects.filter(signed_at__isnull=False),
        open_recommendations=lambda: Recommendation.objects.open(),
        with_figure_columns=with_review_columns,
        figure_counts=review_counts,
        with_figure_percentages=with_review_percentages,
        put_on_next_agenda=put_on_next_agenda,
        notify_consultant_of_safety=notify_consultant_of_safety,
    )
)
