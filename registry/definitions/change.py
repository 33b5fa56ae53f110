"""Change from baseline (docs/clinical-definitions.md#baseline-latest-and-change):
(baseline - latest) / baseline as a whole percent, rounded half up, positive when symptoms
fell; undefined (None, NULL) when the baseline is 0 or either score is missing.

Integer arithmetic in both forms, so that the figure a page shows and the order the
dashboard sorts by agree exactly (registry/definitions/tests/test_change.py).
"""

from django.db.models import Case, F, FloatField, IntegerField, When
from django.db.models.functions import Cast, Floor


def percent_change(baseline: int | None, latest: int | None) -> int | None:
    """The Python form."""
    if not baseline or latest is None:
        return None
    return (200 * (baseline - latest) + baseline) // (2 * baseline)


def percent_change_expression(instrument: str) -> Case:
    """The ORM form over the summary columns `<instrument>_baseline` and `<instrument>_latest`
    (instrument "phq9" or "gad7"): floor((200 * (b - l) + b) / (2 * b)), the same as above."""
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
