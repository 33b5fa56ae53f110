from consults.models import CaseReview, Recommendation
from registry.reviews import case_reviews
from registry.summaries import SUMMARY_FIELDS, summary_expressions


def test_the_consults_app_provides_the_case_reviews_the_registry_counts():
    provided = case_reviews()

    assert provided.signed().model is CaseReview
    assert '"signed_at" IS NOT NULL' in str(provided.signed().query)  # a draft does not count
    assert provided.open_recommendations().model is Recommendation


def test_summary_fields_name_every_column_the_summary_writes():
    assert list(summary_expressions()) == SUMMARY_FIELDS
