"""A recommendation as the plan change it brings (patients/plans.py asks through Recommendations)."""

from consults.models import Recommendation


def reason_from(recommendation: Recommendation) -> tuple[str, str]:
    """The prefilled reason and change for a consultant's recommendation."""
    reason = f"Psychiatric consultant recommended on {recommendation.recommended_on:%Y-%m-%d}: {recommendation}"
    if recommendation.status == Recommendation.Status.MODIFIED and recommendation.response_note:
        reason += f"; the PCP accepted with changes: {recommendation.response_note}"
    what = str(recommendation) + (f": {recommendation.details}" if recommendation.details else "")
    return reason + ".", what
