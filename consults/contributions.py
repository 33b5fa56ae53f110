"""What the consults app adds to the apps below it (docs/architecture.md#layering), registered when
Django is ready (consults/apps.py)."""

from consults.agenda import put_on_next_agenda
from consults.demo import build_case_reviews, build_this_weeks_agendas, save_case_reviews
from consults.demo_plans import add_demo_plans
from consults.figures import review_counts, with_review_columns, with_review_percentages
from consults.models import CaseReview, Recommendation
from consults.notifications import notify_consultant_of_safety
from consults.patient_page import case_reviews_panel
from consults.plan_changes import reason_from
from patients.panels import register_panel
from patients.plans import RECOMMENDATIONS, Recommendations
from registry.demo import EPISODE_STEPS, REFRESHED_STEPS, SAVED_STEPS
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


def plans_in_the_demo(rows, *, today, by, **_) -> None:
    add_demo_plans(rows, by=by, today=today)  # they follow the recommendations and the medications


EPISODE_STEPS.append(build_case_reviews)
SAVED_STEPS.append((10, save_case_reviews))
SAVED_STEPS.append((30, plans_in_the_demo))
REFRESHED_STEPS.append(build_this_weeks_agendas)
register_panel(30, case_reviews_panel)

RECOMMENDATIONS.append(
    Recommendations(
        visible_to=lambda user: Recommendation.objects.visible_to(user).select_related("episode", "review"),
        of_signed_notes=lambda episode: Recommendation.objects.filter(
            episode=episode, review__signed_at__isnull=False
        ).select_related("review"),
        is_implemented=lambda recommendation: recommendation.status == Recommendation.Status.IMPLEMENTED,
        reason_from=reason_from,
    )
)
